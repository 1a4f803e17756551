"""The demo catalogue (demo.catalogue.seed_catalogue).

Seeding checks every item against the JSON Schema meta-schema, which takes a few
seconds, so the catalogue is seeded once for this module inside a transaction
that is rolled back at the end; each test runs in a savepoint inside it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from accounts.models import RealNameLevel
from approvals.applications.rules import apply_problem
from demo import catalogue
from services.codes import is_valid_uscc, parent_region_code, region_level_of
from services.models import (
    Audience,
    Bundle,
    Department,
    DepartmentKind,
    HandlingType,
    ItemType,
    Region,
    RegionLevel,
    Section,
    ServiceItem,
    Synonym,
    Theme,
)
from services.validation import item_problems

# The embedded default (SQLite) must get the same catalogue.
pytestmark = [pytest.mark.both_databases, pytest.mark.django_db]

EXPECTED_COUNTS = {
    "regions": 39,
    "provinces": 1,
    "cities": 11,
    "counties": 26,
    "departments": 183,
    "themes": 23,
    "items": 366,
    "bundles": 5,
    "synonyms": 36,
}
WIDGETS = {"text", "textarea", "number", "date", "select", "checkbox", "id_number", "uscc", "phone", "address", "file"}
WIDGETS |= {"repeat", "multiselect"}
LEVEL_NAMES = {"province": RegionLevel.PROVINCE, "city": RegionLevel.CITY, "county": RegionLevel.COUNTY}


def items() -> list[ServiceItem]:
    return list(ServiceItem.objects.select_related("department__region").prefetch_related("themes"))


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every catalogue table, in a stable order."""
    models: tuple[Any, ...] = (Region, Department, Theme, ServiceItem, ServiceItem.themes.through, Bundle, Synonym)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


# --- The catalogue ---


def test_first_seed_creates_the_whole_demo_catalogue(seeded):
    assert seeded == EXPECTED_COUNTS
    assert seeded["departments"] >= 40
    assert seeded["items"] >= 150
    assert seeded["bundles"] >= 3
    assert seeded["synonyms"] >= 20


def test_second_seed_changes_nothing(seeded):
    # given
    before = snapshot()

    # when
    counts = catalogue.seed_catalogue()

    # then
    assert counts == EXPECTED_COUNTS
    assert snapshot() == before


def test_regions_have_real_codes_levels_and_parents(seeded):
    regions = {region.code: region for region in Region.objects.select_related("parent")}

    assert regions["100000000000"].name == "中华人民共和国"
    assert regions["100000000000"].parent is None
    assert (regions["330000000000"].name, regions["330000000000"].level) == ("浙江省", RegionLevel.PROVINCE)
    cities = {code[:6]: region.name for code, region in regions.items() if region.level == RegionLevel.CITY}
    assert cities == {
        "330100": "杭州市",
        "330200": "宁波市",
        "330300": "温州市",
        "330400": "嘉兴市",
        "330500": "湖州市",
        "330600": "绍兴市",
        "330700": "金华市",
        "330800": "衢州市",
        "330900": "舟山市",
        "331000": "台州市",
        "331100": "丽水市",
    }
    assert regions["330106000000"].name == "西湖区"
    assert regions["330110000000"].name == "余杭区"
    assert regions["330203000000"].name == "海曙区"
    for code, region in regions.items():
        assert region_level_of(code) == region.level, code
        assert (region.parent.code if region.parent else None) == parent_region_code(code), code
    counties_per_city = Counter(region.parent.code for region in regions.values() if region.level == RegionLevel.COUNTY)
    assert set(counties_per_city) == {f"{code}000000" for code in cities}
    assert min(counties_per_city.values()) >= 2


def test_departments_have_valid_credit_codes_of_their_region(seeded):
    departments = list(Department.objects.select_related("region"))

    for department in departments:
        assert is_valid_uscc(department.uscc), department.name
        assert department.uscc[:8] == "11" + department.region.code[:6], department.name
        assert re.fullmatch(r"0\d{3}-8\d{7}", department.phone), department.phone
        assert department.address
    assert Counter(department.region.level for department in departments) == {
        RegionLevel.PROVINCE: 17,
        RegionLevel.CITY: 78,
        RegionLevel.COUNTY: 88,
    }
    names = {department.name for department in departments}
    assert {
        "浙江省市场监督管理局",
        "浙江省卫生健康委员会",
        "杭州市公安局",
        "杭州市人力资源和社会保障局",
        "国家税务总局杭州市税务局",
        "杭州市规划和自然资源局",
        "杭州市住房和城乡建设局",
        "杭州市教育局",
        "杭州市交通运输局",
        "杭州市医疗保障局",
        "杭州市西湖区民政局",
        "杭州市公安局西湖区分局",
        "义乌市市场监督管理局",
    } <= names


def test_every_department_has_its_own_document_code_for_its_document_numbers(seeded):
    codes = dict(Department.objects.values_list("name", "document_code"))

    assert all(codes.values())
    assert len(set(codes.values())) == len(codes)
    assert codes["杭州市西湖区民政局"] == "西湖民"
    assert codes["浙江省民政厅"] == "浙民"
    assert codes["杭州市市场监督管理局"] == "杭市监"
    assert codes["义乌市市场监督管理局"] == "义乌市监"


def test_seeding_again_gives_a_department_seeded_without_a_document_code_its_code_and_keeps_one_set(seeded):
    Department.objects.filter(name="杭州市西湖区民政局").update(document_code="")
    Department.objects.filter(name="浙江省民政厅").update(document_code="浙民政")

    catalogue.seed_catalogue()

    assert Department.objects.get(name="杭州市西湖区民政局").document_code == "西湖民"
    assert Department.objects.get(name="浙江省民政厅").document_code == "浙民政"


def test_every_department_implements_at_least_one_item(seeded):
    empty = Department.objects.exclude(pk__in=ServiceItem.objects.values("department_id"))

    assert list(empty.values_list("name", flat=True)) == []


def test_every_item_is_valid_and_published_as_version_one(seeded):
    catalogue = items()

    assert {item.name: item_problems(item) for item in catalogue if item_problems(item)} == {}
    assert {(item.status, item.version, str(item.effective_from)) for item in catalogue} == {
        ("published", 1, "2026-01-01")
    }
    assert len({item.implementation_code for item in catalogue}) == len(catalogue)


def test_the_catalogue_covers_every_item_type_level_audience_and_section(seeded):
    catalogue = items()

    assert {item.item_type for item in catalogue} == set(ItemType.values)
    assert {item.exercise_level for item in catalogue} == {RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY}
    assert sum(item.for_persons for item in catalogue) == 276
    assert sum(item.for_enterprises for item in catalogue) == 154
    assert Counter(item.section for item in catalogue) == {
        Section.APPROVAL: 340,
        Section.CONVENIENCE: 10,
        Section.TRANSPARENCY: 16,
    }
    assert {item.star_level for item in catalogue} == {1, 3, 4, 5}


def test_the_everyday_items_are_there_with_the_names_people_type(seeded):
    aliases = dict(ServiceItem.objects.values_list("name", "aliases").distinct())

    for name in (
        "结婚登记",
        "离婚登记",
        "出生医学证明",
        "居民身份证换领",
        "户口迁移",
        "社会保障卡申领",
        "个体工商户设立登记",
        "公司设立登记",
        "食品经营许可证核发",
        "建设工程规划许可证核发",
        "道路运输经营许可（道路货物运输）",
        "退休申请",
        "医保参保登记",
    ):
        assert aliases.get(name), name
    assert {"领结婚证", "结婚证"} <= set(aliases["结婚登记"].split(","))
    assert {"身份证", "换身份证"} <= set(aliases["居民身份证换领"].split(","))
    assert {"开公司", "注册公司"} <= set(aliases["公司设立登记"].split(","))


def test_common_items_are_implemented_by_every_county_with_one_basic_code(seeded):
    marriages = ServiceItem.objects.filter(name="结婚登记").select_related("department__region")

    assert marriages.count() == 26
    assert len({item.basic_code for item in marriages}) == 1
    assert {item.department.kind for item in marriages} == {DepartmentKind.CIVIL_AFFAIRS}
    assert {item.exercise_level for item in marriages} == {RegionLevel.COUNTY}
    assert ServiceItem.objects.filter(name="普通护照签发").count() == 11
    names_by_basic_code: dict[str, set[str]] = {}
    for basic_code, name in ServiceItem.objects.values_list("basic_code", "name"):
        names_by_basic_code.setdefault(basic_code, set()).add(name)
    assert len(names_by_basic_code) == 145
    assert all(len(names) == 1 for names in names_by_basic_code.values())


def test_fees_are_in_fen_and_most_items_are_free(seeded):
    fees = {
        (item.name, fee["code"]): fee["amount_fen"]
        for item in ServiceItem.objects.exclude(fees=[])
        for fee in item.fees
    }

    assert fees[("不动产转移登记", "registration_residential")] == 8000
    assert fees[("不动产转移登记", "registration_non_residential")] == 55000
    assert fees[("居民身份证换领", "id_card_fee")] == 2000
    assert fees[("普通护照签发", "passport_fee")] == 12000
    assert ServiceItem.objects.filter(fees=[]).count() > 300


def test_materials_come_from_uploads_certificates_and_registries(seeded):
    sources = Counter(
        material["source"].split(":")[0] for item in ServiceItem.objects.all() for material in item.materials
    )
    marriage = ServiceItem.objects.filter(name="结婚登记").first()

    assert set(sources) == {"upload", "certificate", "registry"}
    assert marriage is not None
    assert {material["source"] for material in marriage.materials} >= {
        "certificate:resident_id_card",
        "certificate:household_register",
        "upload",
    }


def test_immediate_items_have_instant_workflows_and_committed_ones_deadlines(seeded):
    checked = Counter()
    for item in items():
        if not item.workflow:
            assert item.section == Section.TRANSPARENCY, item.name
            checked["public service without a workflow"] += 1
            continue
        if item.handling_type == HandlingType.IMMEDIATE and item.visits:
            # 即办 with a visit: decided on the spot by the clerk who sees the applicant, never at submission.
            assert not item.workflow["instant"], item.name
            assert len(item.workflow["stages"]) == 1, item.name
            checked["at the visit"] += 1
            continue
        assert item.workflow["instant"] == (item.handling_type == HandlingType.IMMEDIATE), item.name
        checked["instant" if item.workflow["instant"] else "staged"] += 1
        if item.handling_type == HandlingType.COMMITTED:
            assert item.legal_limit, item.name
            assert item.promised_limit, item.name
        if item.workflow.get("trust_first"):
            assert item.star_level == 4, item.name
            checked["trust first"] += 1

    # every kind was met, and every item of the catalogue was looked at
    assert set(checked) == {"public service without a workflow", "instant", "at the visit", "staged", "trust first"}
    assert checked.total() - checked["trust first"] == ServiceItem.objects.count() >= seeded["items"]


def test_workflow_departments_can_be_resolved(seeded):
    # given: which kinds of department each region of each level has
    kinds_by_region = {}
    for region_code, level, kind in Department.objects.values_list("region__code", "region__level", "kind"):
        kinds_by_region.setdefault((level, region_code), set()).add(kind)
    usccs = set(Department.objects.values_list("uscc", flat=True))
    shapes = Counter()

    for item in items():
        for stage in item.workflow.get("stages", []):
            assert stage["join"] == "all"
            assert stage["tasks"], item.name
            departments = set()
            for task in stage["tasks"]:
                rule = task["department"]
                assert task["results"], item.name
                assert task["share"] >= 1, item.name
                if rule["rule"] == "fixed":
                    assert rule["uscc"] in usccs, item.name
                elif rule["rule"] == "kind":
                    level = LEVEL_NAMES[rule["level"]]
                    # then: every region of that level has such a department to route to
                    regions = [key for key in kinds_by_region if key[0] == level]
                    assert all(rule["kind"] in kinds_by_region[key] for key in regions), item.name
                else:
                    assert rule == {"rule": "implementing"}, item.name
                departments.add(str(sorted(rule.items())))
            if len(departments) > 1:
                shapes["parallel across departments"] += 1
        if len(item.workflow.get("stages", [])) >= 3:
            shapes["sequential"] += 1
        if len(item.workflow.get("stages", [])) == 1:
            shapes["single stage"] += 1

    assert shapes["parallel across departments"] >= 5
    assert shapes["sequential"] >= 50
    assert shapes["single stage"] >= 50


def test_forms_are_short_json_schemas_with_bilingual_steps(seeded):
    with_forms = 0
    for item in items():
        if not item.form_schema:
            assert item.online_depth == 1, item.name
            continue
        with_forms += 1
        Draft202012Validator.check_schema(item.form_schema)
        properties = list(item.form_schema["properties"])
        assert 3 <= len(properties) <= 8, item.name
        assert set(item.form_schema["required"]) <= set(properties)
        step_fields = [field for step in item.form_ui["steps"] for field in step["fields"]]
        assert sorted(step_fields) == sorted(properties), item.name
        for step in item.form_ui["steps"]:
            assert step["title"]["zh"]
            assert step["title"]["en"]
        for code, hints in item.form_ui["fields"].items():
            assert hints["label"]["zh"] == item.form_schema["properties"][code]["title"]
            assert hints["label"]["en"]
            assert hints["widget"] in WIDGETS
    assert with_forms >= seeded["items"] // 2


def test_a_filled_in_form_validates_against_its_schema(seeded):
    item = ServiceItem.objects.filter(name="居民身份证换领").first()
    assert item is not None
    validator = Draft202012Validator(item.form_schema)
    answers = {
        "applicant_name": "王小明",
        "applicant_id_number": "330106199001011234",
        "id_card_reason": "expired",
        "delivery": "counter",
        "phone": "13700009050",
        "declaration": True,
    }

    assert list(validator.iter_errors(answers)) == []
    assert [error.message for error in validator.iter_errors({**answers, "delivery": "post"})] == [
        "'postal_address' is a required property"
    ]


def test_item_themes_match_the_items_audience(seeded):
    checked = Counter()
    for item in items():
        for theme in item.themes.all():
            if theme.audience == Audience.PERSON:
                assert item.for_persons, (item.name, theme.name)
            else:
                assert item.for_enterprises, (item.name, theme.name)
            checked[theme.audience] += 1
    assert checked[Audience.PERSON] >= 100
    assert checked[Audience.ENTERPRISE] >= 50
    themes = dict(Theme.objects.values_list("name", "audience").filter(audience=Audience.PERSON))
    assert {"婚育收养", "教育培训", "求职执业", "纳税缴费", "医疗保健", "社会保险", "户籍办理", "出入境"} <= set(themes)
    assert {"住房保障", "交通出行", "退休养老", "残疾人服务"} <= set(themes)
    enterprise = set(Theme.objects.filter(audience=Audience.ENTERPRISE).values_list("name", flat=True))
    assert {"企业开办", "工程建设", "准营准入", "纳税缴费", "人力资源", "企业注销"} <= enterprise
    assert all(re.fullmatch(r"[a-z-]+", slug) for slug in Theme.objects.values_list("slug", flat=True))


def test_bundles_group_published_items(seeded):
    bundles = {bundle.name: bundle for bundle in Bundle.objects.select_related("theme")}
    published = dict(ServiceItem.objects.published().values_list("implementation_code", "name"))

    assert {"出生一件事", "企业开办一件事", "退休一件事"} <= set(bundles)
    assert [published[code] for code in bundles["出生一件事"].item_codes] == [
        "出生医学证明",
        "出生登记（新生儿入户）",
        "预防接种证办理",
        "医保参保登记",
        "社会保障卡申领",
    ]
    assert [published[code] for code in bundles["企业开办一件事"].item_codes] == [
        "公司设立登记",
        "公章刻制备案",
        "发票申领",
        "单位社会保险登记",
        "住房公积金单位缴存登记",
    ]
    business = bundles["企业开办一件事"]
    assert published[business.founding_item_code] == "公司设立登记"
    assert {published[code]: [published[each] for each in waits] for code, waits in business.depends_on.items()} == {
        "公章刻制备案": ["公司设立登记"],
        "发票申领": ["公司设立登记"],
        "单位社会保险登记": ["公司设立登记"],
        "住房公积金单位缴存登记": ["公司设立登记"],
    }
    # each waiting item is handled by a clerk of its own department, not decided at once
    departments = dict(ServiceItem.objects.published().values_list("implementation_code", "department__kind"))
    assert sorted(departments[code] for code in business.depends_on) == [
        "housing_fund",
        "human_resources",
        "public_security",
        "taxation",
    ]
    assert all(
        not ServiceItem.objects.published().get(implementation_code=code).workflow["instant"]
        for code in business.depends_on
    )
    assert [published[code] for code in bundles["退休一件事"].item_codes] == [
        "退休申请",
        "基本养老金申领",
        "退休人员医保待遇核定",
        "住房公积金提取（离退休）",
    ]
    for bundle in bundles.values():
        assert set(bundle.item_codes) <= set(published), bundle.name
        assert bundle.theme is not None
        assert bundle.theme.audience == bundle.audience
        assert bundle.is_active


def test_synonyms_map_what_people_type(seeded):
    synonyms = dict(Synonym.objects.values_list("term", "expansions"))

    assert synonyms["身份证"] == "居民身份证"
    assert synonyms["开公司"] == "公司设立登记"
    assert synonyms["注册公司"] == "公司设立登记"
    assert synonyms["社保卡"] == "社会保障卡"
    assert synonyms["营业执照"].split(",") == ["公司设立登记", "个体工商户设立登记"]
    assert synonyms["生孩子"].split(",") == ["出生医学证明", "出生一件事"]
    assert len(synonyms) >= 20


def test_services_that_pay_the_applicant_out_need_advanced_real_name(seeded, citizen):
    advanced = ServiceItem.objects.filter(min_real_name_level=RealNameLevel.ADVANCED)
    names = set(advanced.values_list("name", flat=True))
    assert names == {"基本养老金申领", "失业保险金申领", "住房公积金提取（租赁住房）", "住房公积金提取（离退休）"}

    item = advanced.filter(name="基本养老金申领").first()
    assert item is not None
    citizen.real_name_level = RealNameLevel.BASIC
    problem = apply_problem(user=citizen, item=item, acting_for=None)
    assert problem is not None
    assert problem.code == "real_name_level_too_low"
    assert "高级实名" in str(problem.message)
    citizen.real_name_level = RealNameLevel.ADVANCED
    assert apply_problem(user=citizen, item=item, acting_for=None) is None
