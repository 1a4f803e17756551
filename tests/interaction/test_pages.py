"""The inbox pages: the list with its unread count, one message, mark all read; only one's own."""

from __future__ import annotations

import re

import pytest

from interaction import actions
from interaction.models import Message
from tests.helpers import assert_query_count, get_counting_queries
from tests.interaction.builders import submitted_message

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

LIST = "/me/messages/"


def _rows(body: str) -> list[str]:
    return re.findall(r'<tr id="message-(\d+)">', body)


def test_the_list_shows_only_my_messages_newest_first_with_the_unread_count(citizen_client, citizen, other_citizen):
    older = submitted_message(citizen, "A1", minutes_ago=10)
    newer = submitted_message(citizen, "A2", minutes_ago=5)
    actions.message_mark_read(user=citizen, message_id=older.pk)
    # a number with a hyphen: no CSRF token of the page can contain it by chance
    theirs = submitted_message(other_citizen, "OTHER-0001")

    response = citizen_client.get(LIST)

    body = response.content.decode()
    assert response.status_code == 200
    assert _rows(body) == [str(newer.pk), str(older.pk)]
    assert f'id="message-{theirs.pk}"' not in body
    assert "OTHER-0001" not in body
    assert '<p id="unread-count">您有 1 条未读消息。</p>' in body
    assert (
        f'<td class="status-cell" data-label="状态"><span class="badge">未读</span></td>\n'
        f'              <td class="subject-cell" data-label="主题"><strong><a href="/me/messages/{newer.pk}/">'
        "结婚登记：办件 A2 已提交</a></strong></td>"
    ) in body
    assert (
        f'<td class="status-cell" data-label="状态">已读</td>\n'
        f'              <td class="subject-cell" data-label="主题"><a href="/me/messages/{older.pk}/">'
        "结婚登记：办件 A1 已提交</a></td>"
    ) in body
    assert "no-store" in response.headers["Cache-Control"]


def test_the_list_reads_in_english_under_en(citizen_client, citizen):
    message = submitted_message(citizen, "A1")

    body = citizen_client.get("/en" + LIST).content.decode()

    assert '<p id="unread-count">You have 1 unread message.</p>' in body
    assert f'<a href="/en/me/messages/{message.pk}/">结婚登记: application A1 submitted</a>' in body


def test_an_empty_inbox_says_so_and_offers_nothing_to_mark(citizen_client):
    body = citizen_client.get(LIST).content.decode()

    assert "<p>您还没有消息。</p>" in body
    assert '<p id="unread-count">您没有未读消息。</p>' in body
    assert "/me/messages/read-all/" not in body


def test_the_list_is_paginated_twenty_to_a_page(citizen_client, citizen):
    messages = [submitted_message(citizen, f"A{number}", minutes_ago=number) for number in range(25)]

    first = citizen_client.get(LIST).content.decode()
    second = citizen_client.get(LIST + "?page=2").content.decode()

    assert _rows(first) == [str(message.pk) for message in messages[:20]]
    assert _rows(second) == [str(message.pk) for message in messages[20:]]
    assert '<span aria-current="page">第 1 页，共 2 页</span>' in first


def test_the_list_runs_the_same_queries_however_many_messages(citizen_client, citizen):
    submitted_message(citizen, "A0")
    _response, few = get_counting_queries(citizen_client, LIST)
    for number in range(1, 30):
        submitted_message(citizen, f"A{number}", minutes_ago=number)

    response, many = get_counting_queries(citizen_client, LIST)

    assert response.status_code == 200
    assert_query_count(many, len(few))
    # the user, the message count, the unread count (once for header and page), the page of messages
    assert_query_count(many, 4)


def test_opening_a_message_shows_it_and_marks_it_read(citizen_client, citizen):
    message = submitted_message(citizen, "A1")

    response = citizen_client.get(f"{LIST}{message.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert '<h1 id="message-subject">结婚登记：办件 A1 已提交</h1>' in body
    assert '<p id="message-body">您申请的“结婚登记”已提交，办件编号为 A1，可在办件页面查看办理进度。</p>' in body
    assert '<a href="/me/" id="message-link">查看相关页面</a>' in body
    assert "no-store" in response.headers["Cache-Control"]
    assert Message.objects.get(pk=message.pk).read_at is not None


def test_opening_a_message_in_english_links_to_the_english_page(citizen_client, citizen):
    message = submitted_message(citizen, "A1")

    body = citizen_client.get(f"/en{LIST}{message.pk}/").content.decode()

    assert '<h1 id="message-subject">结婚登记: application A1 submitted</h1>' in body
    assert '<a href="/en/me/" id="message-link">Open the page this message is about</a>' in body


def test_opening_a_message_again_keeps_the_time_it_was_first_read(citizen_client, citizen):
    message = submitted_message(citizen, "A1")
    citizen_client.get(f"{LIST}{message.pk}/")
    first_read = Message.objects.get(pk=message.pk).read_at

    citizen_client.get(f"{LIST}{message.pk}/")

    assert Message.objects.get(pk=message.pk).read_at == first_read


def test_another_persons_message_is_not_found_and_stays_unread(citizen_client, other_citizen):
    theirs = submitted_message(other_citizen, "OTHER-0001")

    response = citizen_client.get(f"{LIST}{theirs.pk}/")

    assert response.status_code == 404
    assert "OTHER-0001" not in response.content.decode()
    assert Message.objects.get(pk=theirs.pk).read_at is None


@pytest.mark.parametrize("message_id", ["999999", "9" * 30])
def test_a_message_that_does_not_exist_is_not_found(citizen_client, message_id):
    assert citizen_client.get(f"{LIST}{message_id}/").status_code == 404


def test_mark_all_read_marks_only_mine(citizen_client, citizen, other_citizen):
    mine = [submitted_message(citizen, "A1"), submitted_message(citizen, "A2")]
    theirs = submitted_message(other_citizen, "B1")

    response = citizen_client.post(LIST + "read-all/")

    assert response.status_code == 302
    assert response.headers["Location"] == LIST
    assert Message.objects.filter(pk__in=[message.pk for message in mine], read_at__isnull=True).count() == 0
    assert Message.objects.get(pk=theirs.pk).read_at is None
    body = citizen_client.get(LIST).content.decode()
    assert "所有消息已标为已读。" in body
    assert '<p id="unread-count">您没有未读消息。</p>' in body


def test_mark_all_read_is_a_post_only(citizen_client, citizen):
    submitted_message(citizen, "A1")

    assert citizen_client.get(LIST + "read-all/").status_code == 405
    assert Message.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.parametrize("url", [LIST, f"{LIST}1/"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=")


def test_anonymous_visitors_cannot_mark_all_read(client, citizen):
    submitted_message(citizen, "A1")

    response = client.post(LIST + "read-all/")

    assert response.status_code == 302
    assert Message.objects.filter(read_at__isnull=True).count() == 1


def test_the_header_shows_the_unread_count_to_eyes_and_to_screen_readers(citizen_client, citizen):
    submitted_message(citizen, "A1")
    submitted_message(citizen, "A2")

    chinese = citizen_client.get("/").content.decode()
    english = citizen_client.get("/en/").content.decode()

    assert (
        '<a href="/me/messages/" id="header-messages">消息 <span aria-hidden="true">2</span>'
        '<span class="visually-hidden">2 条未读</span></a>'
    ) in chinese
    assert (
        '<a href="/en/me/messages/" id="header-messages">Messages <span aria-hidden="true">2</span>'
        '<span class="visually-hidden">2 unread</span></a>'
    ) in english


def test_the_header_shows_no_count_when_everything_is_read(citizen_client):
    body = citizen_client.get("/").content.decode()

    assert '<a href="/me/messages/" id="header-messages">消息</a>' in body


def test_anonymous_pages_have_no_inbox_link_and_no_query(client):
    response, queries = get_counting_queries(client, "/")

    assert 'id="header-messages"' not in response.content.decode()
    assert_query_count(queries, 0)


def test_my_account_page_links_to_the_inbox_with_the_unread_count(citizen_client, citizen):
    submitted_message(citizen, "A1")

    response, queries = get_counting_queries(citizen_client, "/me/")

    body = response.content.decode()
    assert '<p id="messages-link"><a href="/me/messages/">消息（1 条未读）</a></p>' in body
    # The header and the page share one count.
    assert sum('"interaction_message"' in query for query in queries) == 1
