"""The order of a bundle's children: a child that waits for others starts only once they are all approved.

A bundle names, for each of its items, the items it waits for (``Bundle.depends_on``). A waiting child is
submitted with the others (it has its number and query password at once) but without its routing promise;
when the last child it waits for is approved, the promise is written (``outbox_add``) in the transaction that
approved it, so the worker routes it as it routes any application. When a child it waits for ends any other
way (refused, not accepted, withdrawn, revoked), the waiting child is withdrawn with the reason, and never
routed.

In a bundle for an enterprise that does not exist yet (``Bundle.founding_item_code``, 企业开办), the approval
of the founding item registers the enterprise: it gets its credit code (``new_enterprise_uscc``), kept on the
application's ``result``; the children that wait for it take the code, the name and the materials the
registration gives (``founding_given``) from there, not from the applicant.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import forms_engine
from approvals.applications import merged_form, submission
from approvals.journal import notify_applicant, record_event
from approvals.materials import MaterialState, materials_of
from approvals.models import Application, ApplicationEvent, BundleApplication, Outbox
from approvals.outbox import outbox_add
from services.codes import new_enterprise_uscc
from services.models import FOUNDING_FIELDS, FOUNDING_MATERIAL_SOURCES, Bundle, ServiceItem

SYSTEM = "system:bundle"


def waits(bundle: Bundle, item: ServiceItem) -> bool:
    """Whether the bundle's child of this item waits for others before it is routed."""
    return bool(bundle.prerequisites_of(item.implementation_code))


def given_later(bundle: Bundle, item: ServiceItem) -> set[str]:
    """What another child gives the child of this item before it is routed (answers, ``material.<code>``)."""
    if bundle.is_for_new_enterprise and waits(bundle, item):
        return submission.founding_given(item)
    return set()


def not_asked(bundle: Bundle, items: Iterable[ServiceItem]) -> set[str]:
    """What the bundle's one form does not ask (answers, ``material.<code>``): given later to every item that has it."""
    every = list(items)
    given = [given_later(bundle, item) for item in every]
    candidates: set[str] = set().union(*given) if given else set()
    return {
        key
        for key in candidates
        if all(key in given_to or key not in _asks(item) for item, given_to in zip(every, given, strict=True))
    }


def _asks(item: ServiceItem) -> set[str]:
    return merged_form.form_properties(item) | {f"material.{entry['code']}" for entry in materials_of(item)}


def without_fields(steps: list[forms_engine.Step], codes: Collection[str]) -> list[forms_engine.Step]:
    """These steps without the fields of these codes (a step left empty goes too)."""
    kept: list[forms_engine.Step] = []
    for step in steps:
        fields = tuple(field for field in step.fields if field.code not in codes)
        if fields:
            kept.append(forms_engine.Step(index=len(kept), title=step.title, fields=fields))
    return kept


def without_materials(states: list[MaterialState], keys: Collection[str]) -> list[MaterialState]:
    return [state for state in states if f"material.{state.code}" not in keys]


def submission_problems(bundle: Bundle, children: Iterable[Application]) -> dict[str, list[str]]:
    """What stops the children from being submitted, without what another child gives them later."""
    problems: dict[str, list[str]] = {}
    for child in children:
        if child.status != Application.Status.DRAFT:
            continue
        found = submission.submission_problems(child, given_later=given_later(bundle, child.service))
        for key, messages in found.items():
            known = problems.setdefault(key, [])
            known.extend(message for message in messages if message not in known)
    return problems


# --- when a child ends: start or end the children that wait for it -------------------------------------


def _founding_result(finished: Application) -> dict[str, Any]:
    """The registration's result: the new enterprise's credit code (issued once) and name."""
    if not finished.result.get("uscc"):
        name = finished.data.get("enterprise_name") or finished.data.get("proposed_name") or ""
        finished.result = {
            **finished.result,
            "uscc": new_enterprise_uscc(finished.department.region.code),
            "enterprise_name": str(name),
        }
        finished.save(update_fields=["result", "updated_at"])
    return finished.result


def dependants_settle(bundle: BundleApplication, finished: Application) -> None:
    """Route the children whose last awaited sibling was approved; withdraw those one of which was not.

    Called with the bundle locked, in the transaction that ended ``finished``. Only waiting children (submitted,
    never routed, no routing promise) are locked and changed, so running it twice changes nothing.
    """
    definition = bundle.bundle
    if not definition.depends_on:
        return
    if (
        definition.founding_item_code == finished.implementation_code
        and finished.status == Application.Status.COMPLETED
    ):
        _founding_result(finished)
    while True:
        statuses = dict(
            Application.objects.filter(bundle_application=bundle).values_list("implementation_code", "status")
        )
        waiting = list(
            Application.objects.select_for_update(of=("self",))
            .select_related("service")
            .filter(
                bundle_application=bundle,
                implementation_code__in=list(definition.depends_on),
                status=Application.Status.SUBMITTED,
                stage_index__isnull=True,
            )
            .exclude(Exists(Outbox.objects.filter(application=OuterRef("pk"))))
            .order_by("pk")
        )
        ended = False
        for child in waiting:
            awaited = definition.prerequisites_of(child.implementation_code)
            failed = [
                code
                for code in awaited
                if statuses.get(code) in Application.FINAL and statuses[code] != Application.Status.COMPLETED
            ]
            if failed:
                _end(child, failed)
                ended = True
            elif all(statuses.get(code) == Application.Status.COMPLETED for code in awaited):
                _start(child, bundle)
        if not ended:
            return  # a child withdrawn here may be awaited by another: look again


def _start(child: Application, bundle: BundleApplication) -> None:
    definition = bundle.bundle
    if definition.is_for_new_enterprise and definition.founding_item_code in definition.prerequisites_of(
        child.implementation_code
    ):
        founding = Application.objects.select_related("department__region").get(
            bundle_application=bundle, implementation_code=definition.founding_item_code
        )
        result = _founding_result(founding)
        properties = merged_form.form_properties(child.service)
        child.data = {**child.data, **{code: result[code] for code in FOUNDING_FIELDS if code in properties}}
        child.material_picks = {
            **child.material_picks,
            **{
                entry["code"]: {"by": "registry"}
                for entry in materials_of(child.service)
                if entry.get("source") in FOUNDING_MATERIAL_SOURCES
            },
        }
        child.save(update_fields=["data", "material_picks", "updated_at"])
    outbox_add(child)


def _end(child: Application, failed: list[str]) -> None:
    names = "、".join(
        sorted(set(ServiceItem.objects.filter(implementation_code__in=failed).values_list("name", flat=True)))
    )
    old = child.status
    child.status = Application.Status.WITHDRAWN
    child.withdrawn_at = timezone.now()
    child.save(update_fields=["status", "withdrawn_at", "updated_at"])
    record_event(
        child,
        ApplicationEvent.Action.WITHDRAWN,
        actor=None,
        actor_label=SYSTEM,
        old_status=old,
        new_status=child.status,
        note=_("Not sent to its department: it waits for %(items)s, which was not approved.") % {"items": names},
        details={"awaited": failed},
    )
    notify_applicant(child, "application_withdrawn")
