"""Life events (个人办事) and enterprise life cycle stages (法人办事) that group the items."""

from __future__ import annotations

from dataclasses import dataclass

from services.models import Audience


@dataclass(frozen=True)
class ThemeSpec:
    slug: str
    name: str
    audience: str
    description: str


_PERSON_THEMES = (
    ("marriage-family", "婚育收养", "结婚、离婚、生育登记、新生儿出生和收养登记。"),
    ("education", "教育培训", "入学报名、转学、教师资格和学历相关事项。"),
    ("employment", "求职执业", "就业创业、失业保险、职业资格和执业注册。"),
    ("person-tax", "纳税缴费", "个人所得税汇算、契税和城乡居民社会保险费缴纳。"),
    ("healthcare", "医疗保健", "就医报销、异地就医、预防接种和慢特病待遇。"),
    ("social-insurance", "社会保险", "社会保障卡、养老和医疗保险的参保与待遇。"),
    ("household", "户籍办理", "居民身份证、户口迁移、出生登记和居住证。"),
    ("exit-entry", "出入境", "护照、往来港澳台通行证及签注。"),
    ("housing", "住房保障", "不动产登记、住房公积金、公共租赁住房和宅基地。"),
    ("transport", "交通出行", "机动车驾驶证、网约车和道路运输从业。"),
    ("retirement", "退休养老", "退休申请、养老金申领和退休后的医保、公积金。"),
    ("disability", "残疾人服务", "残疾人生活补贴、护理补贴和就业扶持。"),
    ("social-assistance", "社会救助", "最低生活保障、特困供养和临时救助。"),
    ("legal-services", "法律服务", "法律援助、律师和司法鉴定执业。"),
)
_ENTERPRISE_THEMES = (
    ("business-start", "企业开办", "设立登记、公章刻制、发票申领、社保和公积金开户。"),
    ("construction", "工程建设", "用地规划、工程规划、施工许可、竣工验收备案。"),
    ("market-access", "准营准入", "食品、药品、娱乐、旅馆等行业经营许可。"),
    ("enterprise-tax", "纳税缴费", "纳税人登记、发票、延期缴纳税款和契税。"),
    ("human-resources", "人力资源", "社会保险登记、劳务派遣、人力资源服务和劳动争议。"),
    ("business-closure", "企业注销", "公司注销登记、简易注销和税务注销。"),
    ("safety-environment", "安全环保", "环境影响评价、排污许可、危险化学品和安全生产。"),
    ("qualification", "资质认定", "建筑业企业资质、检验检测机构资质和生产许可证。"),
    ("transport-logistics", "交通运输", "道路运输经营、超限运输和驾驶员培训。"),
)

THEMES = tuple(
    ThemeSpec(slug, name, Audience.PERSON, description) for slug, name, description in _PERSON_THEMES
) + tuple(ThemeSpec(slug, name, Audience.ENTERPRISE, description) for slug, name, description in _ENTERPRISE_THEMES)
THEME_SLUGS = frozenset(theme.slug for theme in THEMES)
