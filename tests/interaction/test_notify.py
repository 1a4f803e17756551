"""notify: one entry point that stores a message, rendered later in the reader's language."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.utils import translation

from interaction import actions, events
from interaction.models import Message

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

SUBMITTED = {"number": "11330100MB0000000X1000000000001202601050001", "service_name": "结婚登记", "url": "/me/"}


def test_notify_stores_the_event_and_its_context_unread(citizen):
    message = actions.notify(citizen, "application_submitted", SUBMITTED)

    stored = Message.objects.get()
    assert stored.pk == message.pk
    assert stored.recipient_id == citizen.pk
    assert stored.event == "application_submitted"
    assert stored.context == SUBMITTED
    assert stored.read_at is None
    assert stored.is_read is False


def test_notify_takes_the_user_id_too(citizen):
    message = actions.notify(citizen.pk, "authorisation_ended", {"enterprise_name": "一网科技有限公司"})

    assert Message.objects.get(pk=message.pk).recipient_id == citizen.pk


def test_the_message_reads_in_the_language_of_whoever_reads_it(citizen):
    message = actions.notify(citizen, "application_submitted", SUBMITTED)
    stored = Message.objects.get(pk=message.pk)

    with translation.override("zh-hans"):
        assert stored.subject == f"结婚登记：办件 {SUBMITTED['number']} 已提交"
        assert stored.body == (
            f"您申请的“结婚登记”已提交，办件编号为 {SUBMITTED['number']}，可在办件页面查看办理进度。"
        )
        assert stored.url == "/me/"
    with translation.override("en"):
        assert stored.subject == f"结婚登记: application {SUBMITTED['number']} submitted"
        assert stored.body == (
            f"Your application for 结婚登记 has been submitted. Its number is {SUBMITTED['number']}; "
            "you can follow its progress on the application's page."
        )
        assert stored.url == "/en/me/"


def test_a_link_made_in_english_is_shown_in_chinese_to_a_chinese_reader(citizen):
    message = actions.notify(citizen, "application_withdrawn", {**SUBMITTED, "url": "/en/me/?tab=1"})

    with translation.override("zh-hans"):
        assert message.url == "/me/?tab=1"
    with translation.override("en"):
        assert message.url == "/en/me/?tab=1"


def test_a_display_value_is_stored_as_source_text_and_translated_when_shown(citizen):
    # Any label of the catalogue will do; approvals passes its outcome's label the same way.
    label = translation.gettext_lazy("Revoked")
    with translation.override(None):
        outcome = str(label)
    message = actions.notify(citizen, "application_decided", {**SUBMITTED, "outcome_display": outcome})

    assert Message.objects.get(pk=message.pk).context["outcome_display"] == "Revoked"
    with translation.override("en"):
        assert message.subject == f"结婚登记: Revoked (application {SUBMITTED['number']})"
    with translation.override("zh-hans"):
        assert message.subject == f"结婚登记：已撤销（办件 {SUBMITTED['number']}）"


def test_an_unknown_event_is_refused_and_nothing_stored(citizen):
    with pytest.raises(ValueError, match="unknown event 'no_such_event'"):
        actions.notify(citizen, "no_such_event", {})

    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    "context",
    [
        {"expires_on": datetime.date(2026, 3, 1), "service_name": "结婚登记", "url": "/me/"},
        {"service_name": float("nan"), "url": "/me/"},
        {1: "not a string key"},
        ["not", "a", "dict"],
    ],
)
def test_a_context_of_other_than_plain_json_is_refused(citizen, context):
    with pytest.raises(ValueError, match="context"):
        actions.notify(citizen, "draft_expiring", context)

    assert Message.objects.count() == 0


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "me/", 7])
def test_a_link_that_is_not_a_path_on_this_site_is_refused(citizen, url):
    with pytest.raises(ValueError, match="path on this site"):
        actions.notify(citizen, "application_submitted", {**SUBMITTED, "url": url})

    assert Message.objects.count() == 0


def test_a_missing_context_key_still_renders_and_is_logged(citizen, caplog):
    message = actions.notify(citizen, "application_supplement_requested", {"number": "A1", "url": "/me/"})

    with caplog.at_level(logging.WARNING, logger="interaction.events"), translation.override("en"):
        body = message.body
    assert body == (
        "The department handling your application for — (A1) asks you to supply: —. "
        "Please do so on the application's page."
    )
    assert [record.getMessage() for record in caplog.records] == [
        f"message {message.pk} of event application_supplement_requested: the context has no 'service_name'",
        f"message {message.pk} of event application_supplement_requested: the context has no 'items'",
    ]


def test_a_message_of_an_event_no_longer_registered_still_shows(citizen, caplog):
    message = Message.objects.create(recipient=citizen, event="retired_event", context={"url": "/me/"})

    with caplog.at_level(logging.WARNING, logger="interaction.events"), translation.override("en"):
        assert (message.subject, message.body, message.url) == ("Message", "", "")
    assert caplog.records[0].getMessage() == f"message {message.pk}: unknown event retired_event"


def test_a_stored_link_that_is_not_a_site_path_is_not_shown(citizen):
    message = Message.objects.create(
        recipient=citizen, event="application_submitted", context={**SUBMITTED, "url": "javascript:alert(1)"}
    )

    assert message.url == ""


def test_an_event_without_a_link_has_no_url(citizen):
    message = actions.notify(citizen, "authorisation_ended", {"enterprise_name": "一网科技有限公司", "url": "/me/"})

    assert message.url == ""


def test_every_built_in_event_renders_in_both_languages_without_a_missing_value(citizen, caplog):
    contexts = {
        "application_submitted": SUBMITTED,
        "application_supplement_requested": {**SUBMITTED, "items": "身份证复印件"},
        "application_decided": {**SUBMITTED, "outcome_display": "Approved"},
        "application_withdrawn": SUBMITTED,
        "draft_expiring": {"service_name": "结婚登记", "url": "/me/", "expires_on": "2026-03-01"},
        "legal_representative_changed": {"enterprise_name": "一网科技有限公司", "url": "/me/"},
        "authorisation_ended": {"enterprise_name": "一网科技有限公司"},
    }
    assert set(contexts) <= set(events.EVENTS)

    with caplog.at_level(logging.WARNING, logger="interaction.events"):
        for code, context in contexts.items():
            message = actions.notify(citizen, code, context)
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    assert events.MISSING_VALUE not in message.subject + message.body
    assert caplog.records == []


def test_another_app_registers_its_own_event(citizen, monkeypatch):
    monkeypatch.setattr(events, "EVENTS", dict(events.EVENTS))
    event = events.Event(subject="Paid %(amount)s", body="Order %(order)s is paid.", link_key=None)

    events.register("order_paid", event)
    events.register("order_paid", event)  # again, as a reloaded AppConfig would: harmless
    message = actions.notify(citizen, "order_paid", {"amount": "80.00", "order": "P1"})

    assert (message.subject, message.body) == ("Paid 80.00", "Order P1 is paid.")
    with pytest.raises(ValueError, match="already registered"):
        events.register("order_paid", events.Event(subject="Other", body="Other"))


def test_channels_are_called_with_the_message_once_the_transaction_commits(
    citizen, request, django_capture_on_commit_callbacks
):
    sent: list[int] = []
    channel = actions.channels.connect(lambda message: sent.append(message.pk))
    request.addfinalizer(lambda: actions.channels.disconnect(channel))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = actions.notify(citizen, "application_submitted", SUBMITTED)
        assert sent == []
    for callback in callbacks:
        callback()

    assert sent == [message.pk]


def test_no_channel_is_plugged_in_yet():
    assert len(actions.channels) == 0
