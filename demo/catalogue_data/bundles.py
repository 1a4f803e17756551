"""一件事: items of several departments applied for together, named by item and implementing region."""

from __future__ import annotations

from dataclasses import dataclass

from demo.catalogue_data.regions import HANGZHOU_CODE, XIHU_CODE
from services.models import Audience


@dataclass(frozen=True)
class BundleSpec:
    slug: str
    name: str
    audience: str
    theme_slug: str
    description: str
    items: tuple[tuple[str, str], ...]  # (item name, region code of the implementing department)
    # For an enterprise that does not exist yet: the item whose approval registers it.
    founding: str = ""
    waits_for: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (item name, names of the items it waits for)


BUNDLES = (
    BundleSpec(
        slug="birth",
        name="出生一件事",
        audience=Audience.PERSON,
        theme_slug="marriage-family",
        description=(
            "新生儿出生后，一次填报、一次提交，同步办理出生医学证明、出生登记（新生儿入户）、预防接种证、"
            "医保参保登记和社会保障卡申领，结果统一送达，父母不用跑医院、派出所、医保和社保窗口。"
        ),
        items=(
            ("出生医学证明", XIHU_CODE),
            ("出生登记（新生儿入户）", XIHU_CODE),
            ("预防接种证办理", XIHU_CODE),
            ("医保参保登记", HANGZHOU_CODE),
            ("社会保障卡申领", HANGZHOU_CODE),
        ),
    ),
    BundleSpec(
        slug="business-start",
        name="企业开办一件事",
        audience=Audience.ENTERPRISE,
        theme_slug="business-start",
        description=(
            "开办新企业一次填报、一次提交：公司设立登记核准、发给营业执照后，公章刻制、发票申领、"
            "单位社会保险登记和住房公积金缴存登记随即自动转交各部门并联办理，使用新企业的统一社会信用代码，"
            "首套印章免费刻制、邮寄到家。"
        ),
        items=(
            ("公司设立登记", XIHU_CODE),
            ("公章刻制备案", XIHU_CODE),
            ("发票申领", XIHU_CODE),
            ("单位社会保险登记", XIHU_CODE),
            ("住房公积金单位缴存登记", HANGZHOU_CODE),
        ),
        founding="公司设立登记",
        waits_for=(
            ("公章刻制备案", ("公司设立登记",)),
            ("发票申领", ("公司设立登记",)),
            ("单位社会保险登记", ("公司设立登记",)),
            ("住房公积金单位缴存登记", ("公司设立登记",)),
        ),
    ),
    BundleSpec(
        slug="retirement",
        name="退休一件事",
        audience=Audience.PERSON,
        theme_slug="retirement",
        description=(
            "职工达到退休年龄，一次申请即可同步办理退休核准、基本养老金申领、退休人员医保待遇核定和住房公积金退休提取。"
        ),
        items=(
            ("退休申请", HANGZHOU_CODE),
            ("基本养老金申领", HANGZHOU_CODE),
            ("退休人员医保待遇核定", HANGZHOU_CODE),
            ("住房公积金提取（离退休）", HANGZHOU_CODE),
        ),
    ),
    BundleSpec(
        slug="second-hand-home",
        name="二手房交易登记一件事",
        audience=Audience.PERSON,
        theme_slug="housing",
        description="二手房买卖“一窗受理、集成服务”，契税申报与不动产转移登记同步办理，当场领取电子不动产权证书。",
        items=(("契税申报", HANGZHOU_CODE), ("不动产转移登记", HANGZHOU_CODE)),
    ),
    BundleSpec(
        slug="business-closure",
        name="企业注销一件事",
        audience=Audience.ENTERPRISE,
        theme_slug="business-closure",
        description="企业注销一网申请，税务清税与市场监管注销登记信息共享、同步办理。",
        items=(("清税证明开具", XIHU_CODE), ("公司注销登记", XIHU_CODE)),
    ),
)
