"""Synthetic items for benchmarks (python -m bench.scale --items N), on top of the demo catalogue.

Seeding the demo catalogue checks every item against the JSON Schema meta-schema,
which takes a few seconds, so it is seeded once for this module inside a transaction
that is rolled back at the end; each test runs in a savepoint inside it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from bench.scale import items as scale_items
from bench.scale.command import seed
from bench.scale.plans import ScaleError
from services.models import Audience, Bundle, Department, ItemType, Region, RegionLevel, ServiceItem, Synonym, Theme
from services.validation import item_problems

# The embedded default (SQLite) must get the same synthetic items.
pytestmark = [pytest.mark.both_databases, pytest.mark.django_db]


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every catalogue table, in a stable order."""
    models: tuple[Any, ...] = (Region, Department, Theme, ServiceItem, ServiceItem.themes.through, Bundle, Synonym)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def synthetic_items() -> Any:
    return ServiceItem.objects.filter(basic_code__startswith="9")


def test_seed_scale_adds_exactly_the_items_asked_for_and_tops_up(seeded):
    # given
    demo_items = ServiceItem.objects.published().count()

    # when
    with override_settings(DEBUG=True):
        seed(items=30, batch_size=7)
    first = synthetic_items().count()
    with override_settings(DEBUG=True):
        seed(items=45)
    topped_up = snapshot()
    with override_settings(DEBUG=True):
        seed(items=45)
        seed(items=10)

    # then
    assert first == 30
    assert synthetic_items().count() == 45
    assert ServiceItem.objects.published().count() == demo_items + 45
    assert snapshot() == topped_up
    assert sorted(synthetic_items().values_list("basic_code", flat=True)) == [f"9{n:011d}" for n in range(1, 46)]


def test_synthetic_items_are_valid_and_spread_over_types_audiences_and_departments(seeded):
    # given
    with override_settings(DEBUG=True):
        seed(items=60)

    # when
    synthetic = list(synthetic_items().select_related("department__region").prefetch_related("themes"))

    # then
    assert {item.name: item_problems(item) for item in synthetic if item_problems(item)} == {}
    assert {item.item_type for item in synthetic} == set(ItemType.values)
    assert any(item.for_persons for item in synthetic)
    assert any(item.for_enterprises and not item.for_persons for item in synthetic)
    assert len({item.department_id for item in synthetic}) == 60
    assert {item.exercise_level for item in synthetic} >= {RegionLevel.CITY, RegionLevel.COUNTY}
    for item in synthetic:
        [theme] = item.themes.all()
        assert theme.audience == (Audience.PERSON if item.for_persons else Audience.ENTERPRISE)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is how PostgreSQL loads synthetic items")
def test_copy_writes_the_same_rows_as_the_orm(seeded):
    # given
    department = Department.objects.select_related("region").get(name="杭州市西湖区民政局")
    templates = {key: scale_items._synthetic_template(*key) for key in [("01", ("1",))]}
    numbers = [number for number in range(1, 200) if scale_items._synthetic_key(number) == ("01", ("1",))][:2]

    # when
    scale_items._create_synthetic_items([(numbers[0], department)], templates)
    scale_items._copy_synthetic_items([(numbers[1], department)], templates)

    # then
    created, copied = (ServiceItem.objects.filter(basic_code=f"9{number:011d}").values().get() for number in numbers)
    differ = {"id", "implementation_code", "basic_code", "name", "created_at", "updated_at"}
    assert {key: value for key, value in created.items() if key not in differ} == {
        key: value for key, value in copied.items() if key not in differ
    }
    assert copied["implementation_code"] == f"{department.uscc}4{copied['basic_code']}"


def test_seed_scale_refuses_production_without_being_told(seeded):
    with pytest.raises(ScaleError, match="DEBUG is off"):
        seed(items=10)

    assert synthetic_items().count() == 0
