"""The registries in the admin: read-only, and showing personal data only masked."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from datahub import registries
from datahub.identity import IdentityType
from datahub.models import DataAccessLog, LegalPersonRecord, PersonRecord
from demo.registry_data import LI_JIANGUO, LIN_XIAOYAN, WANG_XIAOMING, WANG_XIAOMING_HOUSEHOLD, YIWANG_TECHNOLOGY
from tests.datahub.builders import make_wang_household, make_yiwang_technology
from tests.helpers import assert_query_count, get_counting_queries

pytestmark = pytest.mark.django_db


def _url(name: str, *args: object) -> str:
    with translation.override("en"):
        return reverse(f"admin:datahub_{name}", args=args)


def test_the_population_list_shows_names_numbers_and_phones_masked(admin_client_with_mfa):
    make_wang_household()
    response = admin_client_with_mfa.get(_url("personrecord_changelist"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "*小明" in content
    assert "3****************4" in content
    for clear in ("王小明", WANG_XIAOMING.id_number, LIN_XIAOYAN.id_number, "林晓燕", WANG_XIAOMING.phone):
        assert clear not in content


def test_a_person_page_is_read_only_and_masked(admin_client_with_mfa):
    record = make_wang_household()[0]
    response = admin_client_with_mfa.get(_url("personrecord_change", record.pk))
    content = response.content.decode()
    assert response.status_code == 200
    assert "137****9050" in content
    assert 'name="_save"' not in content
    for clear in ("王小明", WANG_XIAOMING.id_number, WANG_XIAOMING.phone, record.id_number_encrypted):
        assert clear not in content


def test_persons_are_found_by_household_number(admin_client_with_mfa):
    make_wang_household()
    response = admin_client_with_mfa.get(_url("personrecord_changelist") + f"?q={WANG_XIAOMING_HOUSEHOLD}")
    assert response.context["cl"].result_count == 4


def test_nobody_adds_changes_or_deletes_registry_records_here(admin_client_with_mfa):
    record = make_wang_household()[0]
    legal_person = make_yiwang_technology()
    assert admin_client_with_mfa.get(_url("personrecord_add")).status_code == 403
    assert admin_client_with_mfa.get(_url("legalpersonrecord_add")).status_code == 403
    assert admin_client_with_mfa.get(_url("dataaccesslog_add")).status_code == 403
    assert admin_client_with_mfa.post(_url("personrecord_delete", record.pk), {"post": "yes"}).status_code == 403
    assert admin_client_with_mfa.post(_url("personrecord_change", record.pk), {"name": "张三"}).status_code == 403
    assert (
        admin_client_with_mfa.post(_url("legalpersonrecord_delete", legal_person.pk), {"post": "yes"}).status_code
        == 403
    )
    assert PersonRecord.objects.filter(name="王小明").count() == 1
    assert LegalPersonRecord.objects.count() == 1


def test_the_legal_person_list_shows_the_representatives_number_masked(admin_client_with_mfa):
    make_yiwang_technology()
    response = admin_client_with_mfa.get(_url("legalpersonrecord_changelist") + f"?q={YIWANG_TECHNOLOGY.uscc}")
    content = response.content.decode()
    assert response.status_code == 200
    assert "杭州一网科技有限公司" in content
    assert LI_JIANGUO.id_number not in content


def test_the_access_log_lists_who_read_what_and_why(admin_client_with_mfa, citizen):
    make_wang_household()
    registries.person_lookup(
        id_type=IdentityType.RESIDENT_ID, id_number=WANG_XIAOMING.id_number, actor=citizen, purpose="初级实名认证"
    )
    registries.person_verify(
        name="王小明",
        id_type=IdentityType.RESIDENT_ID,
        id_number=WANG_XIAOMING.id_number,
        actor=None,
        actor_label="nightly-check",
        purpose="夜间核验",
    )
    response, queries = get_counting_queries(admin_client_with_mfa, _url("dataaccesslog_changelist"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "citizen" in content
    assert "nightly-check" in content
    assert "初级实名认证" in content
    assert WANG_XIAOMING.id_number not in content
    assert DataAccessLog.objects.count() == 2
    # The actors come with the page: one more row, no more queries.
    registries.person_lookup(
        id_type=IdentityType.RESIDENT_ID, id_number=WANG_XIAOMING.id_number, actor=citizen, purpose="再查"
    )
    assert_query_count(get_counting_queries(admin_client_with_mfa, _url("dataaccesslog_changelist"))[1], len(queries))
