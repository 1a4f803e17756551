"""Registry records for tests, built the way the demo builds them (numbers encrypted, hashed and masked)."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from datahub.identity import resident_id_check_character
from datahub.models import HouseholdRelation, LegalPersonRecord, PersonRecord, PersonStatus
from demo.registries import legal_person_record, person_record
from demo.registry_data import (
    LI_JIANGUO,
    LI_NA,
    LIN_XIAOYAN,
    WANG_XIAOMING,
    WANG_XIAOMING_HOUSEHOLD,
    WANG_YUTONG,
    YIWANG_TECHNOLOGY,
    PersonSpec,
)


def resident_id(region: str, birth_date: datetime.date, serial: int) -> str:
    """A valid 居民身份证 number: odd serials are men, even ones women."""
    first_seventeen = f"{region}{birth_date:%Y%m%d}{serial:03d}"
    return first_seventeen + resident_id_check_character(first_seventeen)


# 王小明's late father: in the household's records, but no longer a member.
WANG_JIANHUA = PersonSpec(
    name="王建华",
    id_number=resident_id("330106", datetime.date(1958, 3, 2), 11),
    household_number=WANG_XIAOMING_HOUSEHOLD,
    relation=HouseholdRelation.PARENT,
    region_code="330106000000",
    address=WANG_XIAOMING.address,
    status=PersonStatus.DECEASED,
)


def make_person(spec: PersonSpec, **changes: Any) -> PersonRecord:
    record = person_record(dataclasses.replace(spec, **changes) if changes else spec)
    record.save()
    return record


def make_wang_household() -> list[PersonRecord]:
    """王小明, his wife, their minor daughter and his late father."""
    return [make_person(spec) for spec in (WANG_XIAOMING, LIN_XIAOYAN, WANG_YUTONG, WANG_JIANHUA)]


def make_yiwang_technology() -> LegalPersonRecord:
    """杭州一网科技有限公司, represented by 李建国, with 李娜 in the registry too."""
    make_person(LI_JIANGUO)
    make_person(LI_NA)
    record = legal_person_record(YIWANG_TECHNOLOGY)
    record.save()
    return record
