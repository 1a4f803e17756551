"""Messages in the admin: listed and shown, never added, changed or deleted."""

import pytest

from interaction import actions

pytestmark = pytest.mark.django_db


def test_messages_are_listed_read_only(admin_client_with_mfa, citizen):
    message = actions.notify(citizen, "authorisation_ended", {"enterprise_name": "一网科技有限公司"})

    listing = admin_client_with_mfa.get("/admin/interaction/message/")
    detail = admin_client_with_mfa.get(f"/admin/interaction/message/{message.pk}/change/")

    assert listing.status_code == 200
    assert "citizen@example.com" in listing.content.decode()
    assert "authorisation_ended" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="event"' not in detail.content.decode()
    assert admin_client_with_mfa.get("/admin/interaction/message/add/").status_code == 403
    assert admin_client_with_mfa.post(f"/admin/interaction/message/{message.pk}/delete/").status_code == 403
