"""Administrative divisions: the nation, Zhejiang, its 11 cities and some of their counties (real codes)."""

from __future__ import annotations

from dataclasses import dataclass

NATION_CODE = "100000000000"
PROVINCE_CODE = "330000000000"
HANGZHOU_CODE = "330100000000"
XIHU_CODE = "330106000000"


@dataclass(frozen=True)
class RegionSpec:
    code: str  # 12 digits
    name: str
    full_name: str  # how departments of this region are named: 杭州市西湖区, 义乌市
    parent_code: str | None
    area_code: str = "0571"  # telephone area code
    seat: str = ""  # where the region's government and service centre are


def _pad(code6: str) -> str:
    return code6.ljust(12, "0")


# (city code, name, area code, service centre address, [(county code, name, service centre address)]).
_CITIES: tuple[tuple[str, str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "330100",
        "杭州市",
        "0571",
        "杭州市上城区解放东路18号市民中心",
        (
            ("330102", "上城区", "杭州市上城区凤起东路189号上城区行政服务中心"),
            ("330106", "西湖区", "杭州市西湖区文三路508号西湖区行政服务中心"),
            ("330108", "滨江区", "杭州市滨江区江汉路1785号滨江区行政服务中心"),
            ("330110", "余杭区", "杭州市余杭区南苑街道南大街285号余杭区行政服务中心"),
        ),
    ),
    (
        "330200",
        "宁波市",
        "0574",
        "宁波市鄞州区宁穿路1901号宁波市行政服务中心",
        (
            ("330203", "海曙区", "宁波市海曙区南苑街290号海曙区行政服务中心"),
            ("330212", "鄞州区", "宁波市鄞州区惠风东路568号鄞州区行政服务中心"),
            ("330282", "慈溪市", "慈溪市白沙路街道新城大道北路318号慈溪市行政服务中心"),
        ),
    ),
    (
        "330300",
        "温州市",
        "0577",
        "温州市鹿城区市府路500号温州市行政审批与公共服务中心",
        (
            ("330302", "鹿城区", "温州市鹿城区府前街9号鹿城区行政审批服务中心"),
            ("330381", "瑞安市", "瑞安市安阳街道万松东路112号瑞安市行政服务中心"),
            ("330382", "乐清市", "乐清市城东街道伯乐东路999号乐清市行政服务中心"),
        ),
    ),
    (
        "330400",
        "嘉兴市",
        "0573",
        "嘉兴市南湖区广场路1号嘉兴市行政审批服务中心",
        (
            ("330402", "南湖区", "嘉兴市南湖区南溪路1388号南湖区行政服务中心"),
            ("330483", "桐乡市", "桐乡市梧桐街道振兴东路2号桐乡市行政服务中心"),
        ),
    ),
    (
        "330500",
        "湖州市",
        "0572",
        "湖州市吴兴区金盖山路99号湖州市民之家",
        (
            ("330502", "吴兴区", "湖州市吴兴区区府路1188号吴兴区行政服务中心"),
            ("330523", "安吉县", "安吉县递铺街道昌硕东路1号安吉县行政服务中心"),
        ),
    ),
    (
        "330600",
        "绍兴市",
        "0575",
        "绍兴市越城区二环北路66号绍兴市行政服务中心",
        (
            ("330602", "越城区", "绍兴市越城区人民东路1200号越城区行政服务中心"),
            ("330681", "诸暨市", "诸暨市陶朱街道艮塔西路138号诸暨市行政服务中心"),
        ),
    ),
    (
        "330700",
        "金华市",
        "0579",
        "金华市婺城区双溪西路151号金华市行政服务中心",
        (
            ("330702", "婺城区", "金华市婺城区丹溪路1331号婺城区行政服务中心"),
            ("330782", "义乌市", "义乌市稠城街道宗泽路519号义乌市行政服务中心"),
        ),
    ),
    (
        "330800",
        "衢州市",
        "0570",
        "衢州市柯城区花园东大道111号衢州市行政服务中心",
        (
            ("330802", "柯城区", "衢州市柯城区新新街道世纪大道868号柯城区行政服务中心"),
            ("330881", "江山市", "江山市双塔街道中山路1号江山市行政服务中心"),
        ),
    ),
    (
        "330900",
        "舟山市",
        "0580",
        "舟山市定海区临城街道千岛路301号舟山市行政服务中心",
        (
            ("330902", "定海区", "舟山市定海区环城南路399号定海区行政服务中心"),
            ("330903", "普陀区", "舟山市普陀区东港街道海莲路500号普陀区行政服务中心"),
        ),
    ),
    (
        "331000",
        "台州市",
        "0576",
        "台州市椒江区市府大道333号台州市行政服务中心",
        (
            ("331002", "椒江区", "台州市椒江区东环大道298号椒江区行政服务中心"),
            ("331081", "温岭市", "温岭市太平街道东辉北路2号温岭市行政服务中心"),
        ),
    ),
    (
        "331100",
        "丽水市",
        "0578",
        "丽水市莲都区花园路1号丽水市行政服务中心",
        (
            ("331102", "莲都区", "丽水市莲都区丽阳街699号莲都区行政服务中心"),
            ("331181", "龙泉市", "龙泉市龙渊街道中山东路1号龙泉市行政服务中心"),
        ),
    ),
)


def _regions() -> tuple[RegionSpec, ...]:
    regions = [
        RegionSpec(NATION_CODE, "中华人民共和国", "中华人民共和国", None, "010", "北京市东城区"),
        RegionSpec(PROVINCE_CODE, "浙江省", "浙江省", NATION_CODE, "0571", "杭州市西湖区省府路8号"),
    ]
    for city_code, city_name, area_code, city_seat, counties in _CITIES:
        regions.append(RegionSpec(_pad(city_code), city_name, city_name, PROVINCE_CODE, area_code, city_seat))
        for county_code, county_name, county_seat in counties:
            # A district is named with its city (杭州市西湖区); a county or county-level city stands alone.
            full_name = f"{city_name}{county_name}" if county_name.endswith("区") else county_name
            regions.append(
                RegionSpec(_pad(county_code), county_name, full_name, _pad(city_code), area_code, county_seat)
            )
    return tuple(regions)


REGIONS = _regions()
REGIONS_BY_CODE = {region.code: region for region in REGIONS}
CITY_CODES = tuple(region.code for region in REGIONS if region.parent_code == PROVINCE_CODE)
COUNTY_CODES = tuple(region.code for region in REGIONS if region.parent_code in CITY_CODES)
