"""The demo registries' fixed people and enterprise, and the pools the generated ones are drawn from.

The fixed records are the ones the demo accounts (``demo.accounts``) are checked
against: their numbers are valid GB 11643 / GB 32100 codes, but invented.
Later capabilities refer to them by these constants, never by typing a number.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from datahub.identity import IdentityType
from datahub.models import (
    Ethnicity,
    HouseholdRelation,
    LegalPersonKind,
    LegalPersonStatus,
    MaritalStatus,
    PersonStatus,
)


@dataclass(frozen=True)
class PersonSpec:
    """One person of the demo population registry; gender and birth date come from a resident ID number."""

    name: str
    id_number: str
    household_number: str
    relation: HouseholdRelation
    region_code: str  # 12-digit division code of the household registration
    address: str
    phone: str = ""
    ethnicity: Ethnicity = Ethnicity.HAN
    status: PersonStatus = PersonStatus.NORMAL
    id_type: IdentityType = IdentityType.RESIDENT_ID
    marital_status: MaritalStatus = MaritalStatus.UNMARRIED
    spouse_id_number: str = ""  # while married, when the spouse is in the registry


@dataclass(frozen=True)
class LegalPersonSpec:
    uscc: str
    name: str
    kind: LegalPersonKind
    representative: PersonSpec
    region_code: str
    address: str
    established_on: datetime.date
    registration_authority: str
    registered_capital_fen: int | None = None
    status: LegalPersonStatus = LegalPersonStatus.ACTIVE


# --- The fixed records of the demo accounts ---

WANG_XIAOMING_HOUSEHOLD = "010690001"
_WANG_ADDRESS = "浙江省杭州市西湖区古荡街道文二西路翠苑一区12幢3单元502室"

_WANG_XIAOMING_ID = "330106198805120314"
_LIN_XIAOYAN_ID = "330105199003080427"

# The demo citizen (username "citizen"): an adult married to 林晓燕, with a minor child in his household.
WANG_XIAOMING = PersonSpec(
    name="王小明",
    id_number=_WANG_XIAOMING_ID,
    household_number=WANG_XIAOMING_HOUSEHOLD,
    relation=HouseholdRelation.HEAD,
    region_code="330106000000",
    address=_WANG_ADDRESS,
    phone="13712349050",
    marital_status=MaritalStatus.FIRST_MARRIAGE,
    spouse_id_number=_LIN_XIAOYAN_ID,
)
LIN_XIAOYAN = PersonSpec(
    name="林晓燕",
    id_number=_LIN_XIAOYAN_ID,
    household_number=WANG_XIAOMING_HOUSEHOLD,
    relation=HouseholdRelation.SPOUSE,
    region_code="330106000000",
    address=_WANG_ADDRESS,
    phone="13957186620",
    marital_status=MaritalStatus.FIRST_MARRIAGE,
    spouse_id_number=_WANG_XIAOMING_ID,
)
# Born 2017-09-01: a minor until 2035-09-01.
WANG_YUTONG = PersonSpec(
    name="王雨桐",
    id_number="330106201709010267",
    household_number=WANG_XIAOMING_HOUSEHOLD,
    relation=HouseholdRelation.CHILD,
    region_code="330106000000",
    address=_WANG_ADDRESS,
)
# Another citizen (username "citizen2"): unmarried, the bride of the demo's 结婚登记.
ZHAO_LI = PersonSpec(
    name="赵丽",
    id_number="330203198512030645",
    household_number="020390001",
    relation=HouseholdRelation.HEAD,
    region_code="330203000000",
    address="浙江省宁波市海曙区南门街道柳汀街225号2幢1101室",
    phone="13805748812",
)
# Legal representative of the demo enterprise.
LI_JIANGUO = PersonSpec(
    name="李建国",
    id_number="330102197010010154",
    household_number="010290001",
    relation=HouseholdRelation.HEAD,
    region_code="330102000000",
    address="浙江省杭州市上城区湖滨街道东坡路38号4幢201室",
    phone="13906512876",
    marital_status=MaritalStatus.FIRST_MARRIAGE,  # his wife's household is registered elsewhere
)
# The demo enterprise's agent 经办人 (username "agent").
LI_NA = PersonSpec(
    name="李娜",
    id_number="330108199307150286",
    household_number="010890001",
    relation=HouseholdRelation.HEAD,
    region_code="330108000000",
    address="浙江省杭州市滨江区长河街道江虹路459号3幢1单元1602室",
    phone="15867123345",
)
# In the registry but without an account yet: the one who signs up during a demo.
ZHOU_XINYU = PersonSpec(
    name="周新宇",
    id_number="330302200102200575",
    household_number="030290001",
    relation=HouseholdRelation.HEAD,
    region_code="330302000000",
    address="浙江省温州市鹿城区五马街道公园路66号5单元301室",
    phone="18857729031",
)

# Unmarried (username "citizen3"): the groom of the demo's 结婚登记, who confirms 赵丽's application.
CHEN_HAOYU = PersonSpec(
    name="陈浩宇",
    id_number="330110199507180334",
    household_number="011090001",
    relation=HouseholdRelation.HEAD,
    region_code="330110000000",
    address="浙江省杭州市余杭区五常街道五常大道181号五常港湾6幢2单元701室",
    phone="13588460712",
)

FIXED_PERSONS = (WANG_XIAOMING, LIN_XIAOYAN, WANG_YUTONG, ZHAO_LI, LI_JIANGUO, LI_NA, ZHOU_XINYU, CHEN_HAOYU)

YIWANG_TECHNOLOGY = LegalPersonSpec(
    uscc="91330106MA2CYW08X3",
    name="杭州一网科技有限公司",
    kind=LegalPersonKind.ENTERPRISE,
    representative=LI_JIANGUO,
    region_code="330106000000",
    address="浙江省杭州市西湖区西溪路525号浙大科技园A楼301室",
    established_on=datetime.date(2019, 6, 18),
    registration_authority="杭州市西湖区市场监督管理局",
    registered_capital_fen=10_000_000 * 100,
)

FIXED_LEGAL_PERSONS = (YIWANG_TECHNOLOGY,)

# --- Pools for the generated records ---

# (county code, city, county, streets, residential compounds), real Zhejiang divisions.
COUNTIES: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "330102",
        "杭州市",
        "上城区",
        ("解放路", "延安路", "清泰街", "望江路", "秋涛路"),
        ("近江家园", "景芳三区", "采荷新村"),
    ),
    ("330105", "杭州市", "拱墅区", ("湖墅南路", "莫干山路", "长庚路", "丽水路"), ("和睦新村", "大关西苑", "信义坊")),
    (
        "330106",
        "杭州市",
        "西湖区",
        ("文三路", "文二路", "天目山路", "古墩路", "西溪路"),
        ("翠苑二区", "蒋村花园", "嘉绿苑"),
    ),
    ("330108", "杭州市", "滨江区", ("江南大道", "滨盛路", "江虹路", "长河路"), ("东方郡", "江南春城", "钱塘春晓")),
    (
        "330110",
        "杭州市",
        "余杭区",
        ("文一西路", "五常大道", "临平大道", "南大街"),
        ("未来科技城小区", "五常港湾", "南苑新村"),
    ),
    ("330203", "宁波市", "海曙区", ("中山西路", "解放南路", "柳汀街", "望春路"), ("月湖花园", "南门三江", "望春新村")),
    (
        "330212",
        "宁波市",
        "鄞州区",
        ("天童南路", "四明中路", "首南中路", "鄞州大道"),
        ("东裕新村", "格兰春天", "樱花公园"),
    ),
    ("330302", "温州市", "鹿城区", ("人民路", "车站大道", "公园路", "府前街"), ("黎明新村", "锦绣花园", "划龙桥小区")),
    ("330381", "温州市", "瑞安市", ("万松路", "安阳路", "罗阳大道"), ("万松新村", "玉海花园", "罗阳小区")),
    ("330402", "嘉兴市", "南湖区", ("中山路", "南湖大道", "禾兴路"), ("江南摩尔小区", "南湖新村", "禾兴花园")),
    ("330502", "湖州市", "吴兴区", ("红旗路", "人民路", "凤凰路"), ("凤凰新村", "龙溪花园", "爱山小区")),
    ("330602", "绍兴市", "越城区", ("解放北路", "胜利西路", "中兴路"), ("鲁迅新村", "城南小区", "稽山花园")),
    ("330702", "金华市", "婺城区", ("八一南街", "人民西路", "宾虹路"), ("三江新村", "宾虹花园", "金都小区")),
    ("330782", "金华市", "义乌市", ("稠州北路", "工人北路", "宾王路"), ("宾王小区", "江东新村", "稠城花园")),
    ("330802", "衢州市", "柯城区", ("新桥街", "荷花中路", "衢化路"), ("荷花小区", "新桥花园", "衢化新村")),
    ("330902", "舟山市", "定海区", ("解放西路", "环城南路", "人民北路"), ("海山新村", "定海花园", "环城小区")),
    ("331002", "台州市", "椒江区", ("市府大道", "中山西路", "东海大道"), ("东山新村", "椒江花园", "海门小区")),
    ("331102", "丽水市", "莲都区", ("中山街", "丽阳街", "解放街"), ("水阁新村", "丽阳花园", "白云小区")),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚"
    "卢姜崔钟谭陆汪范金石廖贾夏方邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严戴莫孔汤楼应俞鲍"
)
MALE_GIVEN = "伟强磊军洋勇杰涛明超辉刚平健斌波华飞鹏宇浩俊峰毅凯晨阳博文建国志海东林成荣"
FEMALE_GIVEN = "芳娜敏静丽艳娟霞燕玲婷雪琳颖慧洁倩佳欣怡萍红梅兰琴秀英云蕾瑶晓雯璐薇"
# Names given to children born since 2010 are mostly two characters from a newer fashion.
MALE_GIVEN_RECENT = ("子轩", "浩宇", "宇轩", "一鸣", "俊熙", "梓睿", "奕辰", "沐阳", "子墨", "皓轩", "睿泽", "锦程")
FEMALE_GIVEN_RECENT = ("梓涵", "欣怡", "一诺", "诗涵", "雨萱", "可馨", "语嫣", "梓萱", "若曦", "子琪", "思彤", "依诺")
OTHER_ETHNICITIES = (Ethnicity.SHE, Ethnicity.HUI, Ethnicity.TUJIA, Ethnicity.MIAO, Ethnicity.ZHUANG, Ethnicity.MANCHU)
PHONE_PREFIXES = (
    "130",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "158",
    "159",
    "177",
    "180",
    "186",
    "188",
    "189",
    "198",
)
BRANDS = (
    "华创",
    "鼎盛",
    "瑞丰",
    "星河",
    "恒远",
    "博远",
    "汇通",
    "天禾",
    "聚源",
    "新锐",
    "云帆",
    "启明",
    "智联",
    "东信",
    "融汇",
    "嘉禾",
    "泰和",
    "宏达",
    "诚信",
    "华泰",
    "中天",
    "盛世",
    "远航",
    "卓越",
    "海纳",
    "金诚",
    "银河",
    "长风",
    "晨曦",
    "蓝海",
    "绿源",
    "百川",
    "同创",
    "正阳",
    "和美",
    "德润",
    "永辉",
    "立信",
    "新光",
    "明德",
)
INDUSTRIES = (
    "科技",
    "网络科技",
    "信息技术",
    "电子商务",
    "贸易",
    "餐饮管理",
    "建筑工程",
    "文化传媒",
    "物流",
    "服饰",
    "食品",
    "机械制造",
    "新材料",
    "医疗器械",
    "教育咨询",
    "环保科技",
    "包装",
    "家居",
    "旅游开发",
    "生物科技",
)
SHOPS = ("便利店", "面馆", "理发店", "水果店", "五金店", "小吃店", "早餐店", "服装店", "烟酒店", "维修部")
INSTITUTIONS = ("小学", "中学", "幼儿园", "社区卫生服务中心", "图书馆", "文化馆")
ORDINALS = ("第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九")
ASSOCIATIONS = (
    "餐饮行业协会",
    "青年创业促进会",
    "志愿者协会",
    "个体劳动者协会",
    "书法家协会",
    "物业管理协会",
    "电子商务协会",
)
BUILDINGS = ("创业大厦", "科技园", "商务中心", "国际大厦", "产业园", "财富中心")
