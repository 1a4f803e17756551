"""Factories for catalogue data: every object they make passes the catalogue's own checks."""

from __future__ import annotations

import datetime
from typing import Any

import factory

from services.codes import parent_region_code, region_level_of, uscc_check_character
from services.models import Department, DepartmentKind, Region, ServiceItem, Theme
from services.validation import served_party_flags


def region(code: str, name: str | None = None) -> Region:
    """The region with this code, creating it and the regions above it as needed."""
    level = region_level_of(code)
    assert level is not None, code
    parent_code = parent_region_code(code)
    parent = region(parent_code) if parent_code else None
    obj, _created = Region.objects.get_or_create(
        code=code, defaults={"name": name or f"区划{code}", "level": level, "parent": parent}
    )
    return obj


def uscc_for(region_code: str, serial: int) -> str:
    """A valid credit code of a government organ (11…) in a region."""
    first = f"11{region_code[:6]}{serial:09d}"
    return first + uscc_check_character(first)


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("uscc",)

    region = factory.LazyFunction(lambda: region("330100000000", "杭州市"))
    uscc = factory.LazyAttributeSequence(lambda department, n: uscc_for(department.region.code, 1000 + n))
    name = factory.Sequence(lambda n: f"测试部门{n}")
    kind = factory.Iterator([kind for kind, _label in DepartmentKind.choices])


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"theme-{n}")
    name = factory.Sequence(lambda n: f"主题{n}")
    audience = "person"


class ServiceItemFactory(factory.django.DjangoModelFactory):
    """A published, valid version 1 of a catalogue entry."""

    class Meta:
        model = ServiceItem
        skip_postgeneration_save = True

    department = factory.SubFactory(DepartmentFactory)
    basic_code = factory.Sequence(lambda n: f"{100000000000 + n}")
    exercise_level = factory.LazyAttribute(lambda item: item.department.region.level)
    implementation_code = factory.LazyAttribute(
        lambda item: f"{item.department.uscc}{item.department.region.level}{item.basic_code}"
    )
    name = factory.Sequence(lambda n: f"测试事项{n}")
    summary = "用于测试的事项。"
    item_type = "01"
    served_parties = factory.LazyFunction(lambda: ["1"])
    for_persons = factory.LazyAttribute(lambda item: served_party_flags(item.served_parties)[0])
    for_enterprises = factory.LazyAttribute(lambda item: served_party_flags(item.served_parties)[1])
    handling_type = "2"
    legal_limit = 20
    promised_limit = 5
    visits = 0
    star_level = 5
    online_depth = 5
    materials = factory.LazyFunction(
        lambda: [{"code": "id-card", "name": "居民身份证", "required": True, "form": "original", "source": "upload"}]
    )
    status = ServiceItem.Status.PUBLISHED
    effective_from = datetime.date(2026, 1, 1)

    @factory.post_generation
    def themes(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.themes.set(extracted)
