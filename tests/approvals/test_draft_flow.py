"""One draft-form flow: a single application, a 一件事 bundle and the workbench show the same answers.

A field whose condition is false is no answer: it is not shown, even when the form requires it where it
applies and even when an old answer to it is still kept.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from approvals import forms_engine
from approvals.applications import actions, draft_flow
from approvals.applications.views import DraftFilling
from approvals.bundles.views import BundleFilling
from approvals.models import Application, Attachment, BundleApplication
from demo.catalogue_data.fields import form
from demo.registry_data import WANG_XIAOMING
from services.models import Bundle, ServiceItem
from tests.approvals.builders import make_applicable_item, pdf_upload
from tests.datahub.builders import make_wang_household

FIELDS = ("applicant_name", "phone", "delivery", "postal_address")


def _draft(data: dict[str, Any]) -> Application:
    """A draft of an item whose postal address is required only when the result goes by post."""
    schema, ui = form("居住证明申请表", FIELDS)
    item = ServiceItem(name="居住证明开具", form_schema=schema, form_ui=ui)
    return Application(service=item, data=data, prefilled={"applicant_name": "population"})


def _rows(groups: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(row["field"].code, str(row["value"]), row["source"]) for group in groups for row in group["rows"]]


@pytest.mark.parametrize(
    "kept",
    [{}, {"postal_address": {"region": "330106000000", "detail": "文三路90号"}}],
    ids=["no postal address", "an old postal address kept"],
)
def test_a_field_whose_condition_is_false_is_no_answer_for_a_single_draft_a_bundle_and_the_workbench(kept):
    # given: the result is fetched at the counter, so the postal address is not asked
    draft = _draft({"applicant_name": "王小明", "phone": "13700009050", "delivery": "counter", **kept})
    single = DraftFilling(draft)
    bundle = BundleFilling(BundleApplication(bundle=Bundle(name="居住一件事")), [draft])

    # when
    with translation.override("en"):
        single_rows = _rows(draft_flow.answer_groups(single.steps(), single.drafts))
        bundle_rows = _rows(draft_flow.answer_groups(bundle.steps(), bundle.drafts))
        workbench_rows = _rows(draft_flow.application_answers(draft))
        delivery = next(field for step in single.steps() for field in step.fields if field.code == "delivery")

    # then
    expected = [
        ("applicant_name", "王小明", "population"),
        ("phone", "13700009050", ""),
        ("delivery", dict(delivery.options)["counter"], ""),
    ]
    assert single_rows == expected
    assert bundle_rows == expected
    assert workbench_rows == expected


def test_the_answers_of_a_bundle_hide_what_each_draft_hides_and_show_the_first_answer_of_a_shared_field():
    # given: two drafts asking the same fields; the first fetches at the counter, the second by post
    by_counter = _draft({"applicant_name": "王小明", "delivery": "counter", "postal_address": {"detail": "旧"}})
    by_post = _draft({"applicant_name": "王小红", "delivery": "post", "postal_address": {"detail": "新"}})

    # when
    shown = draft_flow.shown_answers([by_counter, by_post])

    # then
    assert shown == {"applicant_name": "王小明", "delivery": "counter", "postal_address": {"detail": "新"}}


# --- a file field through the step page: uploaded, kept, needed ---------------------------------


def _post_step(client: Client, url: str, codes: list[str], extra: dict[str, Any]) -> Any:
    """Post the step with the applicant's name (when the step asks it) and ``extra``; the test client's response."""
    answers = {"applicant_name": WANG_XIAOMING.name}
    return client.post(url, {**{code: answers[code] for code in codes if code in answers}, **extra})


@pytest.mark.django_db
def test_a_file_field_of_a_single_draft_is_uploaded_then_kept_then_needed(department, citizen, settings, tmp_path):
    # given: a draft whose form asks for the design drawings as a file
    settings.UPLOAD_ROOT = tmp_path / "uploads"
    settings.UPLOAD_SCANNER = "approvals.uploads.NoScanner"
    make_wang_household()
    schema, ui = form("设计图纸审查申请表", ("applicant_name", "design_drawings"))
    item = make_applicable_item(department=department, form_schema=schema, form_ui=ui, materials=[])
    draft = actions.application_draft_start(user=citizen, service_code=item.implementation_code)
    steps = forms_engine.form_steps(schema, ui)
    number = forms_engine.step_of_field(steps, "design_drawings") + 1
    codes = [field.code for field in steps[number - 1].fields if field.widget != "file"]
    url = reverse("approvals:draft_step", args=[draft.public_id, number])
    client = Client()
    client.force_login(citizen)

    # when: uploaded
    uploaded = _post_step(client, url, codes, {"design_drawings": pdf_upload("图纸.pdf")})
    # then: the draft's answer is the file's id
    attachment = Attachment.objects.get(application=draft, field_code="design_drawings")
    draft.refresh_from_db()
    assert uploaded.status_code == 302
    assert draft.data["design_drawings"] == str(attachment.public_id)

    # when: posted again with the file kept
    kept = _post_step(client, url, codes, {"design_drawings__keep": "1"})
    # then: the same file is the answer
    draft.refresh_from_db()
    assert kept.status_code == 302
    assert draft.data["design_drawings"] == str(attachment.public_id)
    assert Attachment.objects.filter(application=draft, field_code="design_drawings").count() == 1

    # when: posted with neither a file nor the kept one
    missing = _post_step(client, url, codes, {})
    # then: the step asks for it and the saved answer stays
    draft.refresh_from_db()
    assert missing.status_code == 400
    assert 'aria-invalid="true"' in missing.content.decode()
    assert draft.data["design_drawings"] == str(attachment.public_id)
