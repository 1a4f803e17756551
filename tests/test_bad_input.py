"""Every bad input gets a clear 4xx in the format of the endpoint it was sent to, never a 500, and changes nothing.

The first test is generated from the URL conf: every endpoint, signed out and
signed in, gets each class of bad input (deeply nested JSON, null characters and
lone surrogates in JSON, a null character in the query, a truncated JSON body, an
oversized body, OPTIONS), so a new endpoint is covered the day it is added.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import LocalePrefixPattern

from accounts.models import User
from approvals.models import Application, ApplicationEvent
from core.input_guards import MAX_JSON_DEPTH, MULTIPART_OVERHEAD_BYTES
from tests.approvals.builders import make_applicable_item, ready_draft
from tests.datahub.builders import make_wang_household

pytestmark = pytest.mark.django_db

# Values for the path parameters of regular-expression patterns, by group name. A pattern with a group not
# named here fails the first test, which names the group: add a value that the pattern accepts.
REGEX_VALUES = {"uidb36": "1", "key": "set-password", "app_label": "auth", "url": "nothing/", "path": "v1/nothing/"}
NESTED = "[" * 5000 + "]" * 5000
NESTED_OBJECT = '{"a": ' * 5000 + "1" + "}" * 5000
BAD_TEXTS = {"null": '{"data": {"name": "a\\u0000b"}, "email": "\\u0000", "service": "x"}', "surrogate": '{"data": {"name": "\\ud800"}, "email": "\\udfff@example.com"}'}  # noqa: E501  # fmt: skip
TRUNCATED = '{"email": "citizen@example.com", "pass'


@dataclass(frozen=True)
class Endpoint:
    route: str  # as written in the URL conf
    path: str  # a path that the route matches


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + _text(pattern.pattern))
        else:
            yield prefix + _text(pattern.pattern)


def _text(pattern: Any) -> str:
    # The language prefix of i18n_patterns is empty for the default language; routes and regexes print as written.
    return str(pattern.language_prefix) if isinstance(pattern, LocalePrefixPattern) else str(pattern)


def _sample(route: str, values: dict[str, str]) -> str:
    """A path the route matches: regular-expression groups and route parameters filled with sample values."""

    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in REGEX_VALUES:
            raise AssertionError(f"{route}: add a sample value for the group {name!r} to REGEX_VALUES")
        return REGEX_VALUES[name]

    def parameter(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "str", match.group(2)
        if name in values:
            return values[name]
        samples = {"int": "999999", "uuid": str(uuid.UUID(int=1)), "slug": "no-such-slug"}
        return samples.get(converter, "nothing")

    path = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", group, route)
    path = re.sub(r"<(?:(\w+):)?(\w+)>", parameter, path)
    return "/" + path.replace("^", "").replace("$", "")


def endpoints(values: dict[str, str]) -> list[Endpoint]:
    """Every endpoint of the URL conf, each with a path that resolves to it."""
    found = []
    for route in _routes(get_resolver().url_patterns):
        path = _sample(route, values)
        resolve(path)  # a sample that the route does not match fails here
        found.append(Endpoint(route, path))
    return found


# --- What each kind of endpoint answers with -----------------------------------------------------


def assert_refused_in_own_format(endpoint: Endpoint, response: Any, *, what: str) -> None:
    """A 4xx, in the error format of the endpoint's part of the site."""
    label = f"{what} {endpoint.path} ({endpoint.route}) answered {response.status_code}"
    assert 400 <= response.status_code < 500, label
    assert_error_format(endpoint.path, response, label)


def assert_error_format(path: str, response: Any, label: str, *, is_bad_input: bool = True) -> None:
    content_type = response.get("Content-Type", "")
    if path.startswith("/api/"):
        assert content_type == "application/json", label
        body = response.json()
        assert set(body) == {"code", "message", "fields"}, label
        assert isinstance(body["code"], str), label
        assert isinstance(body["message"], str), label
        assert body["code"], label
        assert body["message"], label
        assert isinstance(body["fields"], dict), label
    elif path.startswith("/_allauth/"):
        assert content_type == "application/json", label
        body = response.json()
        assert body["status"] == response.status_code, label
        # Input errors name themselves; allauth answers some requests with only the flows that are open (401).
        assert body.get("errors") or not is_bad_input, label
        for error in body.get("errors", []):
            assert isinstance(error["message"], str), label
            assert isinstance(error["code"], str), label
            assert error["message"], label
            assert error["code"], label
    elif path.startswith(("/identity/o/api/", "/.well-known/")):
        assert content_type == "application/json", label
        assert response.json()["error"], label
    else:
        assert content_type.startswith("text/html"), label
        assert b"<html" in response.content, label


# A JSON body one byte longer than Django reads into memory.
TOO_BIG = b"[" + b"0," * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2) + b"0]"


def bad_requests(endpoint: Endpoint) -> Iterator[tuple[str, dict[str, Any]]]:
    """The classes of bad input, as arguments of Client.generic (the API's also with PATCH, which it reads JSON by)."""
    json_type = "application/json"
    methods = ("POST", "PATCH") if endpoint.path.startswith(("/api/", "/_allauth/")) else ("POST",)
    for method in methods:
        yield f"{method} nested arrays", {"method": method, "data": NESTED, "content_type": json_type}
        for name, text in BAD_TEXTS.items():
            yield f"{method} JSON with a {name}", {"method": method, "data": text, "content_type": json_type}
    yield "POST nested objects", {"method": "POST", "data": NESTED_OBJECT, "content_type": json_type}
    yield "POST truncated JSON", {"method": "POST", "data": TRUNCATED, "content_type": json_type}
    yield "GET with a null character", {"method": "GET", "path": endpoint.path + "?q=%00&parent=a%00b"}
    form = "application/x-www-form-urlencoded"
    yield "POST a form with a null character", {"method": "POST", "data": "name=a%00b", "content_type": form}
    yield "POST an oversized body", {"method": "POST", "data": TOO_BIG, "content_type": json_type}


@pytest.fixture
def citizen_client(citizen: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(citizen)
    return client


@pytest.fixture
def draft(citizen: User, department: Any) -> Application:
    make_wang_household()
    return ready_draft(citizen, make_applicable_item(department=department))


def test_every_endpoint_refuses_every_class_of_bad_input_in_its_own_format(
    citizen_client: Client, draft: Application
) -> None:
    # given every endpoint, with the citizen's own draft and its service where a path names them
    values = {"application_id": str(draft.public_id), "public_id": str(draft.public_id), "code": draft.service.implementation_code}  # noqa: E501  # fmt: skip
    anonymous = Client(raise_request_exception=False)
    events = ApplicationEvent.objects.filter(application=draft).count()
    found = endpoints(values)
    assert len(found) > 300  # the whole URL conf: pages, the admin, the API, allauth's API, the OIDC provider

    problems = []
    logging.disable(logging.CRITICAL)  # thousands of refusals, each logged twice, would take longer than answering
    for endpoint in found:
        for client in (anonymous, citizen_client):
            who = "signed in" if client is citizen_client else "anonymous"
            # when each class of bad input is sent (to pages signed out: no page reads input before the guard)
            is_api = endpoint.path.startswith(("/api/", "/_allauth/"))
            for what, request in bad_requests(endpoint) if is_api or client is anonymous else ():
                response = client.generic(**{"path": endpoint.path, **request})
                # then it is refused, in the endpoint's own format
                try:
                    assert_refused_in_own_format(endpoint, response, what=f"{who}: {what}")
                except AssertionError as problem:
                    problems.append(str(problem).splitlines()[0])
            # OPTIONS is not bad input: it may be answered, refused, or not allowed (a page's 405 is Django's
            # empty one), but never with a 500
            response = client.options(endpoint.path)
            try:
                assert response.status_code < 500, f"{who}: OPTIONS {endpoint.path} answered {response.status_code}"
                if response.status_code >= 400 and endpoint.path.startswith(("/api/v1/", "/_allauth/")):
                    assert_error_format(endpoint.path, response, f"{who}: OPTIONS {endpoint.path}", is_bad_input=False)
            except AssertionError as problem:
                problems.append(str(problem).splitlines()[0])
    logging.disable(logging.NOTSET)
    assert problems == [], "\n".join(problems)

    # and nothing was changed
    saved = Application.objects.get(pk=draft.pk)
    assert (saved.data, saved.updated_at, saved.status) == (draft.data, draft.updated_at, draft.status)
    assert ApplicationEvent.objects.filter(application=draft).count() == events
    assert Application.objects.count() == 1


# --- Each finding of the issue, with the exact answer -----------------------------------------------------------------

NULL_ZH = "不允许包含空字符。"


def api_client(user: User | None = None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def test_a_null_character_in_an_answer_is_refused_naming_the_field_and_changes_nothing(
    citizen: User, draft: Application
) -> None:
    before = Application.objects.values("data", "updated_at").get(pk=draft.pk)
    body = json.dumps({"data": {"applicant_name": "王\u0000小明"}})

    response = api_client(citizen).patch(
        f"/api/v1/applications/{draft.public_id}/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "null_characters_not_allowed",
        "message": NULL_ZH,
        "fields": {"data.applicant_name": [NULL_ZH]},
    }
    assert Application.objects.values("data", "updated_at").get(pk=draft.pk) == before


def test_a_lone_surrogate_in_a_new_application_is_refused_and_nothing_is_made(
    citizen: User, draft: Application
) -> None:
    body = json.dumps({"service": draft.service.implementation_code, "data": {"applicant_name": "\ud800"}})

    response = api_client(citizen).post("/api/v1/applications/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "surrogate_characters_not_allowed"
    assert response.json()["fields"] == {"data.applicant_name": ["不允许使用不成对的代理字符。"]}
    assert Application.objects.count() == 1


def test_json_nested_thousands_of_levels_deep_is_refused_anonymously_too() -> None:
    track = api_client().post("/api/v1/track/", NESTED, content_type="application/json")
    login = api_client().post("/_allauth/app/v1/auth/login", NESTED, content_type="application/json")

    message = f"请求正文中的 JSON 嵌套超过了 {MAX_JSON_DEPTH} 层。"
    assert (track.status_code, track.json()) == (400, {"code": "json_too_deep", "message": message, "fields": {}})
    assert (login.status_code, login.json()) == (
        400,
        {"status": 400, "errors": [{"message": message, "code": "json_too_deep"}]},
    )


def test_json_as_deep_as_the_limit_is_read() -> None:
    body = json.dumps(
        {"number": "x", "password": "1", "nested": json.loads("[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1))}
    )

    response = api_client().post("/api/v1/track/", body, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")  # read, and no such application


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/services/?q=%00", "q"),
        ("/api/v1/regions/?parent=33%000", "parent"),
        ("/api/v1/services/?department=%00", "department"),
    ],
)
def test_a_null_character_in_a_query_parameter_is_a_400_naming_it(url: str, parameter: str) -> None:
    response = api_client().get(url)

    assert response.status_code == 400
    assert response.json() == {
        "code": "null_characters_not_allowed",
        "message": NULL_ZH,
        "fields": {parameter: [NULL_ZH]},
    }


def test_a_null_character_in_a_page_query_is_a_400_page() -> None:
    response = api_client().get("/search/?q=%E5%B1%85%00")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert NULL_ZH in response.content.decode()


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/services/?star=abc", "star"),
        ("/api/v1/services/?star=6", "star"),
        ("/api/v1/services/?item_type=99", "item_type"),
        ("/api/v1/services/?audience=martian", "audience"),
        ("/api/v1/services/?region=33", "region"),
        ("/api/v1/services/?online=yes", "online"),
        ("/api/v1/services/?q=%E5%B1%85%E4%BD%8F&star=abc", "star"),
        ("/api/v1/services/?q=%E5%B1%85%E4%BD%8F&page=0", "page"),
        ("/api/v1/regions/?level=x", "level"),
        ("/api/v1/regions/?level=7", "level"),
        ("/api/v1/regions/?parent=abc", "parent"),
        ("/api/v1/departments/?region=abc", "region"),
        ("/api/v1/departments/?kind=bakery", "kind"),
        ("/api/v1/themes/?audience=martian", "audience"),
    ],
)
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(url: str, parameter: str) -> None:
    response = api_client().get(url)

    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["code"], list(body["fields"])) == ("invalid", [parameter])
    assert body["fields"][parameter][0]


def test_valid_and_empty_filter_values_still_filter(department: Any) -> None:
    # given one published service of a city department
    make_applicable_item(department=department)

    # then the right values find it, the wrong ones narrow to nothing, and empty ones are no filter
    assert len(api_client().get("/api/v1/services/?star=&item_type=&online=").json()["results"]) == 1
    assert api_client().get("/api/v1/regions/?level=3&parent=").status_code == 200
    assert api_client().get("/api/v1/departments/?kind=&region=").status_code == 200
    assert api_client().get("/api/v1/themes/?audience=person").status_code == 200


@pytest.mark.parametrize("action", ["submit", "attachments", "supplement", "withdraw"])
def test_options_on_the_actions_of_an_application_describes_them(
    citizen: User, draft: Application, action: str
) -> None:
    response = api_client(citizen).options(f"/api/v1/applications/{draft.public_id}/{action}/")

    assert response.status_code == 200
    assert response.json()["name"]


def test_a_body_larger_than_django_reads_is_a_413_in_the_api_format(citizen: User) -> None:
    response = api_client(citizen).post("/api/v1/applications/", TOO_BIG, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"code": "request_too_large", "message": "请求大小超过了允许的 2.5\xa0MB。", "fields": {}}


def test_an_upload_far_larger_than_the_upload_limit_is_a_413(citizen: User, draft: Application) -> None:
    size = settings.UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES + 1
    response = api_client(citizen).generic(
        "POST",
        f"/api/v1/applications/{draft.public_id}/attachments/",
        b"x" * size,
        content_type="multipart/form-data; boundary=BoUnDaRy",
    )

    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")


def test_an_unmatched_api_path_is_a_404_in_the_api_format() -> None:
    response = api_client().get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "没有这个 API 接口。", "fields": {}}


def test_an_api_path_without_its_final_slash_is_sent_to_it() -> None:
    response = api_client().get("/api/v1/services?star=5")

    assert (response.status_code, response["Location"]) == (301, "/api/v1/services/?star=5")


def test_a_truncated_json_body_to_allauth_gets_allauths_error_format() -> None:
    response = api_client().post("/_allauth/app/v1/auth/login", TRUNCATED, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "errors": [{"message": "请求正文不是有效的 JSON。", "code": "parse_error"}],
    }


def test_an_invalid_session_token_is_said_to_be_invalid() -> None:
    response = api_client().get("/api/v1/me/", HTTP_X_SESSION_TOKEN="no-such-token")

    assert response.status_code == 403
    assert response.json() == {
        "code": "session_token_invalid",
        "message": "会话令牌无效或会话已结束，请重新登录。",
        "fields": {},
    }


def test_without_a_token_the_answer_is_still_not_authenticated() -> None:
    response = api_client().get("/api/v1/me/")

    assert (response.status_code, response.json()["code"]) == (403, "not_authenticated")


def test_drfs_and_djangos_null_character_message_reads_right_in_chinese() -> None:
    response = api_client().post(
        "/api/v1/track/", {"number": "1\x00", "password": "123456"}, content_type="application/json"
    )

    assert response.json()["fields"] == {"number": [NULL_ZH]}


def test_an_unknown_allauth_path_answers_in_allauth_format():
    response = Client().get("/_allauth/app/v1/no/such/thing")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": 404, "errors": [{"message": "没有这个 API 接口。", "code": "not_found"}]}


@pytest.mark.parametrize("path", ["/api/v1/me/", "/_allauth/app/v1/auth/session"])
def test_a_malformed_session_token_is_an_invalid_one(path):
    response = Client().get(path, HTTP_X_SESSION_TOKEN="barh =P\u00e9")

    assert response.status_code == 401
    body = response.json()
    if path.startswith("/api/"):
        assert body["code"] == "session_token_invalid"
    else:
        assert body["errors"][0]["code"] == "session_token_invalid"
