"""Departments of the demo regions, each with a valid 统一社会信用代码.

Government bodies' credit codes begin with 11 (机关), then the 6-digit division
code, then a 9-character organisation code (GB 11714, with its own check
character), then the USCC check character. The codes here are built that way
from the region and the department's kind, so the same department always gets
the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo.catalogue_data.regions import (
    CITY_CODES,
    COUNTY_CODES,
    HANGZHOU_CODE,
    PROVINCE_CODE,
    REGIONS_BY_CODE,
    XIHU_CODE,
    RegionSpec,
)
from services.codes import uscc_check_character
from services.models import DepartmentKind as Kind

# A stable number per kind, used in the organisation code (never renumber: codes would change).
KIND_NUMBERS: dict[str, int] = {
    Kind.GOVERNMENT_OFFICE: 1,
    Kind.ADMINISTRATIVE_SERVICE: 2,
    Kind.MARKET_REGULATION: 3,
    Kind.PUBLIC_SECURITY: 4,
    Kind.CIVIL_AFFAIRS: 5,
    Kind.HUMAN_RESOURCES: 6,
    Kind.HEALTH: 7,
    Kind.TAXATION: 8,
    Kind.NATURAL_RESOURCES: 9,
    Kind.HOUSING: 10,
    Kind.EDUCATION: 11,
    Kind.TRANSPORT: 12,
    Kind.MEDICAL_SECURITY: 13,
    Kind.ECOLOGY: 14,
    Kind.EMERGENCY: 15,
    Kind.CULTURE: 16,
    Kind.AGRICULTURE: 17,
    Kind.HOUSING_FUND: 18,
    Kind.JUSTICE: 19,
}

# Which departments each region has. Every one of them implements at least one demo item.
PROVINCE_KINDS = (
    Kind.GOVERNMENT_OFFICE,
    Kind.MARKET_REGULATION,
    Kind.PUBLIC_SECURITY,
    Kind.CIVIL_AFFAIRS,
    Kind.HUMAN_RESOURCES,
    Kind.HEALTH,
    Kind.TAXATION,
    Kind.NATURAL_RESOURCES,
    Kind.HOUSING,
    Kind.EDUCATION,
    Kind.TRANSPORT,
    Kind.MEDICAL_SECURITY,
    Kind.ECOLOGY,
    Kind.EMERGENCY,
    Kind.CULTURE,
    Kind.AGRICULTURE,
    Kind.JUSTICE,
)
HANGZHOU_KINDS = (*PROVINCE_KINDS, Kind.HOUSING_FUND)
CITY_KINDS = (
    Kind.MARKET_REGULATION,
    Kind.PUBLIC_SECURITY,
    Kind.HUMAN_RESOURCES,
    Kind.MEDICAL_SECURITY,
    Kind.NATURAL_RESOURCES,
    Kind.HOUSING_FUND,
)
COUNTY_KINDS = (Kind.CIVIL_AFFAIRS, Kind.PUBLIC_SECURITY, Kind.MARKET_REGULATION)
XIHU_KINDS = (
    *COUNTY_KINDS,
    Kind.ADMINISTRATIVE_SERVICE,
    Kind.HUMAN_RESOURCES,
    Kind.HEALTH,
    Kind.MEDICAL_SECURITY,
    Kind.TAXATION,
    Kind.NATURAL_RESOURCES,
    Kind.HOUSING,
    Kind.EDUCATION,
    Kind.EMERGENCY,
    Kind.AGRICULTURE,
)

# name suffix after the region's name, short name, what the department is responsible for.
_KIND_TEXT: dict[str, tuple[str, str, str]] = {
    Kind.GOVERNMENT_OFFICE: ("人民政府办公厅", "政府办公厅", "政府日常运转、政务公开和政府信息公开"),
    Kind.ADMINISTRATIVE_SERVICE: ("行政服务中心", "行政服务中心", "政务服务大厅的运行、综合窗口受理和帮办代办"),
    Kind.MARKET_REGULATION: (
        "市场监督管理局",
        "市场监管局",
        "市场主体登记注册、食品药品和特种设备安全监管、知识产权保护",
    ),
    Kind.PUBLIC_SECURITY: ("公安局", "公安局", "户籍、居民身份证、出入境、治安和交通管理"),
    Kind.CIVIL_AFFAIRS: ("民政局", "民政局", "婚姻收养登记、社会救助、社会组织、养老服务和殡葬管理"),
    Kind.HUMAN_RESOURCES: ("人力资源和社会保障局", "人力社保局", "就业创业、社会保险、劳动关系和人才服务"),
    Kind.HEALTH: ("卫生健康委员会", "卫生健康委", "医疗机构和医护人员管理、公共卫生、妇幼健康和人口监测"),
    Kind.TAXATION: ("税务局", "税务局", "税收征管以及社会保险费和非税收入征收"),
    Kind.NATURAL_RESOURCES: ("自然资源和规划局", "自然资源规划局", "国土空间规划、用地审批、不动产登记和矿产资源管理"),
    Kind.HOUSING: ("住房和城乡建设局", "住建局", "工程建设管理、建筑市场监管、房地产市场和住房保障"),
    Kind.EDUCATION: ("教育局", "教育局", "学校和教师管理、招生入学和学籍管理"),
    Kind.TRANSPORT: ("交通运输局", "交通运输局", "道路运输、公路和出租汽车行业管理"),
    Kind.MEDICAL_SECURITY: ("医疗保障局", "医保局", "医疗保险和生育保险参保、待遇和定点医药机构管理"),
    Kind.ECOLOGY: ("生态环境局", "生态环境局", "环境影响评价、排污许可和生态环境执法"),
    Kind.EMERGENCY: ("应急管理局", "应急管理局", "安全生产监督管理、危险化学品和烟花爆竹安全监管、应急救援"),
    Kind.CULTURE: ("文化广电旅游局", "文广旅游局", "文化市场、广播电视、旅游业和文物管理"),
    Kind.AGRICULTURE: ("农业农村局", "农业农村局", "农业生产、种子农药、动物防疫和农村宅基地管理"),
    Kind.HOUSING_FUND: ("住房公积金管理中心", "公积金中心", "住房公积金的缴存、提取和贷款"),
    Kind.JUSTICE: ("司法局", "司法局", "律师、公证、司法鉴定、法律援助和人民调解"),
}
_PROVINCE_SUFFIX: dict[str, str] = {
    Kind.MARKET_REGULATION: "市场监督管理局",
    Kind.PUBLIC_SECURITY: "公安厅",
    Kind.CIVIL_AFFAIRS: "民政厅",
    Kind.HUMAN_RESOURCES: "人力资源和社会保障厅",
    Kind.NATURAL_RESOURCES: "自然资源厅",
    Kind.HOUSING: "住房和城乡建设厅",
    Kind.EDUCATION: "教育厅",
    Kind.TRANSPORT: "交通运输厅",
    Kind.ECOLOGY: "生态环境厅",
    Kind.EMERGENCY: "应急管理厅",
    Kind.CULTURE: "文化广电和旅游厅",
    Kind.AGRICULTURE: "农业农村厅",
    Kind.JUSTICE: "司法厅",
}
_PROVINCE_SHORT: dict[str, str] = {
    Kind.PUBLIC_SECURITY: "公安厅",
    Kind.CIVIL_AFFAIRS: "民政厅",
    Kind.HUMAN_RESOURCES: "人力社保厅",
    Kind.NATURAL_RESOURCES: "自然资源厅",
    Kind.HOUSING: "建设厅",
    Kind.EDUCATION: "教育厅",
    Kind.TRANSPORT: "交通运输厅",
    Kind.ECOLOGY: "生态环境厅",
    Kind.EMERGENCY: "应急管理厅",
    Kind.CULTURE: "文化和旅游厅",
    Kind.AGRICULTURE: "农业农村厅",
    Kind.JUSTICE: "司法厅",
}
_COUNTY_SUFFIX: dict[str, str] = {Kind.HEALTH: "卫生健康局"}
# The kind's mark in a 机关代字 (西湖民准〔2026〕17号: 西湖 the region, 民 civil affairs).
_DOCUMENT_MARKS: dict[str, str] = {
    Kind.GOVERNMENT_OFFICE: "政办",
    Kind.ADMINISTRATIVE_SERVICE: "审",
    Kind.MARKET_REGULATION: "市监",
    Kind.PUBLIC_SECURITY: "公",
    Kind.CIVIL_AFFAIRS: "民",
    Kind.HUMAN_RESOURCES: "人社",
    Kind.HEALTH: "卫健",
    Kind.TAXATION: "税",
    Kind.NATURAL_RESOURCES: "资规",
    Kind.HOUSING: "建",
    Kind.EDUCATION: "教",
    Kind.TRANSPORT: "交",
    Kind.MEDICAL_SECURITY: "医保",
    Kind.ECOLOGY: "环",
    Kind.EMERGENCY: "应急",
    Kind.CULTURE: "文旅",
    Kind.AGRICULTURE: "农",
    Kind.HOUSING_FUND: "金",
    Kind.JUSTICE: "司",
}
# National hotlines people know by heart, answered locally.
HOTLINES: dict[str, str] = {
    Kind.HUMAN_RESOURCES: "12333",
    Kind.TAXATION: "12366",
    Kind.NATURAL_RESOURCES: "12336",
    Kind.MEDICAL_SECURITY: "12393",
    Kind.HOUSING_FUND: "12329",
    Kind.JUSTICE: "12348",
    Kind.MARKET_REGULATION: "12315",
}


@dataclass(frozen=True)
class DepartmentSpec:
    uscc: str
    name: str
    short_name: str
    document_code: str
    kind: str
    region_code: str
    phone: str
    address: str
    description: str


def _organisation_code(first_eight: str) -> str:
    """An organisation code (GB 11714): eight characters and their check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(char) * weight for char, weight in zip(first_eight, weights, strict=True)) % 11
    return first_eight + {10: "X", 11: "0"}.get(check, str(check))


def department_uscc(region_code: str, kind: str) -> str:
    """The credit code of the demo department of ``kind`` in the region ``region_code``."""
    organisation = _organisation_code(f"00{region_code[2:6]}{KIND_NUMBERS[kind]:02d}")
    first_seventeen = f"11{region_code[:6]}{organisation}"
    return first_seventeen + uscc_check_character(first_seventeen)


def _name(region: RegionSpec, kind: str) -> str:
    suffix = _KIND_TEXT[kind][0]
    level = _level(region)
    if level == "province":
        suffix = _PROVINCE_SUFFIX.get(kind, suffix)
    elif level == "county":
        suffix = _COUNTY_SUFFIX.get(kind, suffix)
    if kind == Kind.TAXATION:
        return f"国家税务总局{region.full_name}税务局"
    if level == "city" and kind == Kind.NATURAL_RESOURCES and region.code == HANGZHOU_CODE:
        return "杭州市规划和自然资源局"
    is_district = level == "county" and region.name.endswith("区")
    if is_district and region.parent_code:
        # A district's police, medical security and planning bureaus are branches of the city's.
        city = REGIONS_BY_CODE[region.parent_code]
        branch = region.name.removesuffix("区")
        if kind == Kind.PUBLIC_SECURITY:
            return f"{city.name}公安局{region.name}分局"
        if kind == Kind.MEDICAL_SECURITY:
            return f"{city.name}医疗保障局{branch}分局"
        if kind == Kind.NATURAL_RESOURCES:
            city_bureau = "规划和自然资源局" if city.code == HANGZHOU_CODE else "自然资源和规划局"
            return f"{city.name}{city_bureau}{branch}分局"
    if kind == Kind.GOVERNMENT_OFFICE and level == "city":
        suffix = "人民政府办公厅" if region.code == HANGZHOU_CODE else "人民政府办公室"
    return f"{region.full_name}{suffix}"


def _level(region: RegionSpec) -> str:
    if region.code == PROVINCE_CODE:
        return "province"
    return "city" if region.code in CITY_CODES else "county"


def _phone(region: RegionSpec, kind: str) -> str:
    # Deterministic, plausible 8-digit local numbers.
    local = (int(region.code[:6]) * 37 + KIND_NUMBERS[kind] * 7919) % 10_000_000
    return f"{region.area_code}-8{local:07d}"


def _department(region_code: str, kind: str) -> DepartmentSpec:
    region = REGIONS_BY_CODE[region_code]
    level = _level(region)
    prefix = {"province": "省", "city": "市", "county": region.name[-1]}[level]
    short = _KIND_TEXT[kind][1]
    if level == "province":
        short = _PROVINCE_SHORT.get(kind, short)
    elif level == "county":
        short = _COUNTY_SUFFIX.get(kind, short)
    name = _name(region, kind)
    # The province and the cities by their first character (浙, 杭), a county by its name without 区/县/市.
    region_mark = region.name[0] if level != "county" else region.name[:-1]
    duties = _KIND_TEXT[kind][2]
    return DepartmentSpec(
        uscc=department_uscc(region_code, kind),
        name=name,
        short_name=f"{prefix}{short}",
        document_code=f"{region_mark}{_DOCUMENT_MARKS[kind]}",
        kind=kind,
        region_code=region_code,
        phone=_phone(region, kind),
        address=region.seat,
        description=f"{name}负责{region.full_name}{duties}等工作。",
    )


def _departments() -> tuple[DepartmentSpec, ...]:
    departments = [_department(PROVINCE_CODE, kind) for kind in PROVINCE_KINDS]
    kinds: tuple[str, ...]
    for city_code in CITY_CODES:
        kinds = HANGZHOU_KINDS if city_code == HANGZHOU_CODE else CITY_KINDS
        departments += [_department(city_code, kind) for kind in kinds]
    for county_code in COUNTY_CODES:
        kinds = XIHU_KINDS if county_code == XIHU_CODE else COUNTY_KINDS
        departments += [_department(county_code, kind) for kind in kinds]
    return tuple(departments)


DEPARTMENTS = _departments()
DEPARTMENTS_BY_KEY = {(department.region_code, department.kind): department for department in DEPARTMENTS}
