"""高级实名 by a face-check provider: start at level 2, a signed result, level 3 only on a pass."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from accounts import real_name
from accounts.face_check import FaceCheckResult, signed_result, verify_signed_result
from accounts.models import FaceCheck, RealNameLevel, User
from core.errors import Conflict, DomainError
from demo.registry_data import WANG_XIAOMING
from tests.factories import email_user
from tests.helpers import logged_in

pytestmark = pytest.mark.django_db

SECRET = "test-face-check-secret"
CALLBACK = "/me/verify/face/callback/"
RETURN_URL = "https://portal.example/me/verify/face/return/"


@pytest.fixture(autouse=True)
def face_settings(settings: Any) -> Any:
    settings.FACE_CHECK_PROVIDER = "accounts.face_check.DemoFaceCheckProvider"
    settings.FACE_CHECK_SECRET = SECRET
    settings.FACE_CHECK_DEMO = True
    settings.DEBUG = False
    return settings


def _start(user: User) -> FaceCheck:
    check, _url = real_name.face_check_start(user=user, return_url=RETURN_URL)
    return check


def _deliver(
    check_id: str,
    *,
    passed: bool = True,
    secret: str = SECRET,
    timestamp: int | None = None,
    client: Client | None = None,
) -> Any:
    body, headers = signed_result(
        check_id=check_id, passed=passed, score=0.97, reason="ok", secret=secret.encode(), timestamp=timestamp
    )
    return (client or Client()).post(CALLBACK, data=body, content_type="application/json", headers=headers)


def _state(user: User, check: FaceCheck) -> tuple:
    user.refresh_from_db()
    check.refresh_from_db()
    return user.real_name_level, user.real_name_verified_at, check.status, check.finished_at


def _level_and_status(user: User, check: FaceCheck) -> tuple:
    level, _verified_at, status, _finished_at = _state(user, check)
    return level, status


# --- Who may start ---


def test_only_a_level_two_account_may_start_and_the_others_are_told_why(citizen):
    newcomer = email_user("new@example.com")

    with pytest.raises(Conflict) as not_basic:
        _start(newcomer)
    with pytest.raises(Conflict) as advanced:
        _start(citizen)

    assert not_basic.value.code == "not_basic"
    assert advanced.value.code == "already_advanced"
    assert FaceCheck.objects.count() == 0
    page = logged_in(newcomer).post("/en/me/verify/face/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Verify your real name online first (basic real-name); the face check comes after it." in body
    page = logged_in(citizen).post("/en/me/verify/face/")
    assert "Your account already has advanced real-name verification." in page.content.decode()
    assert FaceCheck.objects.count() == 0


def test_the_account_page_offers_the_face_check_to_level_two_only(other_citizen, citizen):
    assert 'href="/me/verify/face/"' in logged_in(other_citizen).get("/me/").content.decode()
    assert 'href="/me/verify/face/"' not in logged_in(citizen).get("/me/").content.decode()


def test_the_face_check_page_names_the_identity_to_be_checked(wang):
    response = logged_in(wang).get("/en/me/verify/face/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "*小明 · Resident identity card 3****************4" in body
    assert '<form method="post" action="/en/me/verify/face/"' in body
    assert FaceCheck.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_log_in():
    response = Client().get("/me/verify/face/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- The whole path through the demo provider ---


def test_the_whole_path_with_a_pass_reaches_level_three(wang):
    client = logged_in(wang)
    before = User.objects.get(pk=wang.pk).real_name_verified_at

    started = client.post("/en/me/verify/face/")
    check = FaceCheck.objects.get()
    provider_page = started["Location"]
    assert started.status_code == 302
    assert provider_page.startswith(f"/en/me/verify/face/demo/{check.pk}/?return_url=")
    return_url = parse_qs(urlsplit(provider_page).query)["return_url"][0]
    assert return_url == f"http://testserver/en/me/verify/face/return/?check={check.pk}"
    page = client.get(provider_page)
    assert page.status_code == 200
    assert "*小明" in page.content.decode()

    chosen = client.post(f"/en/me/verify/face/demo/{check.pk}/", {"outcome": "pass", "return_url": return_url})
    assert (chosen.status_code, chosen["Location"]) == (302, return_url)
    shown = client.get(return_url)

    assert "Your account now has advanced real-name verification." in shown.content.decode()
    wang.refresh_from_db()
    check.refresh_from_db()
    assert wang.real_name_level == RealNameLevel.ADVANCED
    assert wang.real_name_verified_at is not None
    assert wang.real_name_verified_at > before
    assert wang.real_name_confirmed_by is None
    assert (check.status, check.score, check.provider) == (
        FaceCheck.Status.PASSED,
        0.98,
        "accounts.face_check.DemoFaceCheckProvider",
    )
    assert check.finished_at is not None


def test_a_fail_leaves_the_account_at_level_two(wang):
    client = logged_in(wang)
    client.post("/en/me/verify/face/")
    check = FaceCheck.objects.get()

    client.post(f"/en/me/verify/face/demo/{check.pk}/", {"outcome": "fail"})
    shown = client.get(f"/en/me/verify/face/return/?check={check.pk}")

    assert "The face check did not pass." in shown.content.decode()
    assert 'href="/en/me/verify/face/"' in shown.content.decode()
    wang.refresh_from_db()
    check.refresh_from_db()
    assert (wang.real_name_level, check.status, check.score) == (RealNameLevel.BASIC, FaceCheck.Status.FAILED, 0.12)


def test_the_return_page_says_pending_until_the_result_arrives(wang):
    check = _start(wang)
    shown = logged_in(wang).get(f"/en/me/verify/face/return/?check={check.pk}")
    assert shown.status_code == 200
    assert "The result of your face check has not arrived yet." in shown.content.decode()


# --- The provider's callback ---


def test_a_signed_pass_from_the_provider_raises_the_level(wang):
    check = _start(wang)

    # The provider's server has no CSRF token: the signature stands in for it.
    response = _deliver(str(check.pk), client=Client(enforce_csrf_checks=True))

    assert response.status_code == 200
    assert response.json() == {"check_id": str(check.pk), "status": "passed"}
    level, _verified_at, status, _finished = _state(wang, check)
    assert (level, status) == (RealNameLevel.ADVANCED, FaceCheck.Status.PASSED)


def test_a_forged_signature_is_refused_and_changes_nothing(wang):
    check = _start(wang)
    before = _state(wang, check)

    forged = _deliver(str(check.pk), secret="not-the-shared-secret")
    body, _headers = signed_result(check_id=str(check.pk), passed=True, score=1.0, reason="", secret=SECRET.encode())
    unsigned = Client().post(CALLBACK, data=body, content_type="application/json")
    tampered_body = body.replace(b'"score":1.0', b'"score":0.5')
    tampered = Client().post(
        CALLBACK, data=tampered_body, content_type="application/json", headers=_headers_for(check, secret=SECRET)
    )

    assert [r.status_code for r in (forged, unsigned, tampered)] == [400, 400, 400]
    assert [r.json()["error"] for r in (forged, unsigned, tampered)] == ["bad_signature"] * 3
    assert _state(wang, check) == before
    assert _level_and_status(wang, check) == (RealNameLevel.BASIC, FaceCheck.Status.PENDING)


def _headers_for(check: FaceCheck, *, secret: str) -> dict[str, str]:
    _body, headers = signed_result(check_id=str(check.pk), passed=True, score=1.0, reason="", secret=secret.encode())
    return headers


# A whole second beyond the limit each way: the stamp is whole seconds, so int(time.time()) + 301 can be as little
# as 300.0 s ahead of the clock the check reads a moment later.
@pytest.mark.parametrize("offset", [-302, 302])
def test_a_result_stamped_more_than_five_minutes_away_is_refused(wang, offset):
    check = _start(wang)
    before = _state(wang, check)

    response = _deliver(str(check.pk), timestamp=int(time.time()) + offset)

    assert (response.status_code, response.json()["error"]) == (400, "stale_result")
    assert _state(wang, check) == before


@pytest.mark.parametrize("check_id", [str(uuid.uuid4()), "not-a-check-id", ""])
def test_a_result_for_an_unknown_check_is_refused(wang, check_id):
    check = _start(wang)
    before = _state(wang, check)

    response = _deliver(check_id)

    assert (response.status_code, response.json()["error"]) == (400, "face_check_not_found")
    assert _state(wang, check) == before


def test_a_replayed_result_changes_nothing(wang):
    check = _start(wang)
    first = _deliver(str(check.pk))
    after_first = _state(wang, check)

    again = _deliver(str(check.pk))

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"check_id": str(check.pk), "status": "passed"}
    assert _state(wang, check) == after_first


def test_a_different_result_for_a_completed_check_is_refused(wang):
    check = _start(wang)
    _deliver(str(check.pk), passed=False)
    after_fail = _state(wang, check)

    response = _deliver(str(check.pk), passed=True)

    assert (response.status_code, response.json()["error"]) == (400, "face_check_completed")
    assert _state(wang, check) == after_fail
    assert after_fail[0] == RealNameLevel.BASIC


def test_a_result_after_the_checks_lifetime_expires_it_instead(wang):
    check = _start(wang)
    FaceCheck.objects.filter(pk=check.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=16))

    response = _deliver(str(check.pk))

    assert response.json() == {"check_id": str(check.pk), "status": "expired"}
    level, _verified_at, status, _finished = _state(wang, check)
    assert (level, status) == (RealNameLevel.BASIC, FaceCheck.Status.EXPIRED)


def test_the_callback_takes_only_post():
    assert Client().get(CALLBACK).status_code == 405


def test_a_malformed_body_with_a_good_signature_is_refused(wang):
    body = b'{"check_id": 1}'
    headers = {"x-face-check-signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    with pytest.raises(DomainError) as error:
        verify_signed_result(body, headers, secret=SECRET.encode())
    assert error.value.code == "malformed_result"


def test_a_good_result_reads_back_as_sent():
    body, headers = signed_result(check_id="abc", passed=False, score=None, reason="r", secret=b"k")
    lower_case_headers: Mapping[str, str] = {name.lower(): value for name, value in headers.items()}
    assert verify_signed_result(body, lower_case_headers, secret=b"k") == FaceCheckResult(
        check_id="abc", passed=False, score=None, reason="r"
    )
    assert json.loads(body)["result"] == "fail"


# --- Scope: a person sees only their own checks ---


def test_another_persons_check_is_not_found_on_the_return_and_demo_pages(wang, other_citizen):
    check = _start(wang)
    intruder = logged_in(other_citizen)

    assert intruder.get(f"/me/verify/face/return/?check={check.pk}").status_code == 404
    assert intruder.get("/me/verify/face/return/?check=nonsense").status_code == 404
    assert intruder.get(f"/me/verify/face/demo/{check.pk}/").status_code == 404
    assert intruder.post(f"/me/verify/face/demo/{check.pk}/", {"outcome": "pass"}).status_code == 404
    assert _level_and_status(wang, check) == (RealNameLevel.BASIC, FaceCheck.Status.PENDING)


# --- Limits and configuration ---


def test_at_most_five_checks_an_hour(wang):
    for _ in range(5):
        _start(wang)

    with pytest.raises(DomainError) as error:
        _start(wang)

    assert error.value.code == "too_many_face_checks"
    assert FaceCheck.objects.filter(user=wang).count() == 5


def test_the_demo_provider_is_closed_unless_enabled(wang, face_settings):
    check = _start(wang)
    face_settings.FACE_CHECK_DEMO = False
    client = logged_in(wang)

    assert client.get(f"/me/verify/face/demo/{check.pk}/").status_code == 404
    assert client.post(f"/me/verify/face/demo/{check.pk}/", {"outcome": "pass"}).status_code == 404
    refused = client.post("/en/me/verify/face/")

    assert refused.status_code == 200
    assert "The face check is not available at the moment." in refused.content.decode()
    assert _level_and_status(wang, check) == (RealNameLevel.BASIC, FaceCheck.Status.PENDING)
    assert list(FaceCheck.objects.exclude(pk=check.pk).values_list("status", flat=True)) == ["failed"]


def test_without_a_secret_and_without_the_demo_no_result_is_taken(wang, face_settings):
    check = _start(wang)
    face_settings.FACE_CHECK_DEMO = False
    face_settings.FACE_CHECK_SECRET = ""

    response = _deliver(str(check.pk))

    assert (response.status_code, response.json()["error"]) == (400, "face_check_unavailable")
    assert _level_and_status(wang, check) == (RealNameLevel.BASIC, FaceCheck.Status.PENDING)


class RemoteProviderStub:
    """A provider outside the machine, as the portal sees it: its start is called with the verified identity."""

    calls: list[dict[str, str]] = []

    def start(self, *, check_id: str, name: str, id_type: str, id_number: str, return_url: str) -> str:
        self.calls.append(
            {"check_id": check_id, "name": name, "id_type": id_type, "id_number": id_number, "return_url": return_url}
        )
        return f"https://face.provider.example/check?token={check_id}"

    def parse_result(self, body: bytes, headers: Mapping[str, str]) -> FaceCheckResult:
        return verify_signed_result(body, headers, secret=b"remote-secret")


def test_a_configured_provider_is_given_the_verified_identity_and_the_person_is_sent_to_it(wang, face_settings):
    face_settings.FACE_CHECK_PROVIDER = "tests.accounts.test_face_check.RemoteProviderStub"
    RemoteProviderStub.calls.clear()

    response = logged_in(wang).post("/me/verify/face/")

    check = FaceCheck.objects.get()
    assert (response.status_code, response["Location"]) == (
        302,
        f"https://face.provider.example/check?token={check.pk}",
    )
    assert RemoteProviderStub.calls == [
        {
            "check_id": str(check.pk),
            "name": "王小明",
            "id_type": "111",
            "id_number": WANG_XIAOMING.id_number,
            "return_url": f"http://testserver/me/verify/face/return/?check={check.pk}",
        }
    ]
    assert check.provider == "tests.accounts.test_face_check.RemoteProviderStub"
    # The demo page is the demo provider's only: closed when another provider is configured.
    assert logged_in(wang).get(f"/me/verify/face/demo/{check.pk}/").status_code == 404
    assert _deliver(str(check.pk), secret="remote-secret").json()["status"] == "passed"
