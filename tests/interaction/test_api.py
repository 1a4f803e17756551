"""The inbox over the API: my messages, cursor-paginated, in the request's language; marking one read."""

from __future__ import annotations

import pytest
from django.utils import timezone

from interaction import actions
from interaction.models import Message
from tests.helpers import assert_query_count, get_counting_queries
from tests.interaction.builders import submitted_message

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

MESSAGES = "/api/v1/messages/"


def test_my_messages_in_the_default_language(citizen_client, citizen, other_citizen):
    message = submitted_message(citizen, "A1")
    submitted_message(other_citizen, "B1")

    response = citizen_client.get(MESSAGES)

    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": message.pk,
                "event": "application_submitted",
                "subject": "结婚登记：办件 A1 已提交",
                "body": "您申请的“结婚登记”已提交，办件编号为 A1，可在办件页面查看办理进度。",
                "url": "http://testserver/me/",
                "created_at": message.created_at.astimezone(timezone.get_current_timezone()).isoformat(),
                "is_read": False,
            }
        ],
    }


def test_my_messages_in_the_language_the_request_asks_for(citizen_client, citizen):
    submitted_message(citizen, "A1")

    response = citizen_client.get(MESSAGES, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    result = response.json()["results"][0]
    assert response.headers["Content-Language"] == "en"
    assert result["subject"] == "结婚登记: application A1 submitted"
    assert result["body"].startswith("Your application for 结婚登记 has been submitted.")
    assert result["url"] == "http://testserver/en/me/"


def test_the_list_is_cursor_paginated_newest_first(citizen_client, citizen):
    messages = [submitted_message(citizen, f"A{number}", minutes_ago=number) for number in range(25)]

    first = citizen_client.get(MESSAGES).json()
    second = citizen_client.get(first["next"]).json()

    assert set(first) == {"results", "next", "previous"}
    assert first["previous"] is None
    assert [item["id"] for item in first["results"]] == [message.pk for message in messages[:20]]
    assert [item["id"] for item in second["results"]] == [message.pk for message in messages[20:]]
    assert second["next"] is None
    assert second["previous"] is not None


def test_the_list_runs_the_same_queries_however_many_messages(citizen_client, citizen):
    submitted_message(citizen, "A0")
    _response, few = get_counting_queries(citizen_client, MESSAGES)
    for number in range(1, 30):
        submitted_message(citizen, f"A{number}", minutes_ago=number)

    response, many = get_counting_queries(citizen_client, MESSAGES)

    assert response.status_code == 200
    # the user and the page of messages
    assert_query_count(many, len(few))
    assert_query_count(many, 2)


def test_the_unread_filter(citizen_client, citizen):
    read = submitted_message(citizen, "A1", minutes_ago=2)
    unread = submitted_message(citizen, "A2", minutes_ago=1)
    actions.message_mark_read(user=citizen, message_id=read.pk)

    only_unread = citizen_client.get(MESSAGES + "?unread=true").json()["results"]
    only_read = citizen_client.get(MESSAGES + "?unread=false").json()["results"]
    everything = citizen_client.get(MESSAGES).json()["results"]

    assert [(item["id"], item["is_read"]) for item in only_unread] == [(unread.pk, False)]
    assert [(item["id"], item["is_read"]) for item in only_read] == [(read.pk, True)]
    assert [item["id"] for item in everything] == [unread.pk, read.pk]


def test_a_bad_unread_value_gets_the_error_body(citizen_client):
    response = citizen_client.get(MESSAGES + "?unread=maybe", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Some values are not valid.",
        "fields": {"unread": ["Use true or false."]},
    }


def test_marking_a_message_read_returns_it_and_is_idempotent(citizen_client, citizen):
    message = submitted_message(citizen, "A1")

    first = citizen_client.post(f"{MESSAGES}{message.pk}/read/")
    read_at = Message.objects.get(pk=message.pk).read_at
    second = citizen_client.post(f"{MESSAGES}{message.pk}/read/")

    assert first.status_code == 200
    assert first.json()["id"] == message.pk
    assert first.json()["is_read"] is True
    assert second.status_code == 200
    assert second.json() == first.json()
    assert read_at is not None
    assert Message.objects.get(pk=message.pk).read_at == read_at


def test_another_persons_message_is_not_found(citizen_client, other_citizen):
    theirs = submitted_message(other_citizen, "B1")

    response = citizen_client.post(f"{MESSAGES}{theirs.pk}/read/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.json() == {"code": "message_not_found", "message": "There is no such message.", "fields": {}}
    assert Message.objects.get(pk=theirs.pk).read_at is None


@pytest.mark.parametrize(("method", "path"), [("get", MESSAGES), ("post", f"{MESSAGES}1/read/")])
def test_anonymous_requests_are_refused_as_elsewhere_in_the_api(client, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 403
    assert response.json()["code"] == "not_authenticated"


def test_the_inbox_is_in_the_api_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    assert "/api/v1/messages/" in schema
    assert "/api/v1/messages/{message_id}/read/" in schema
    assert "unread" in schema
