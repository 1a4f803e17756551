"""Time catalogue search on an already-seeded database, or on synthetic items it generates.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_search_bench \\
        .venv/bin/python bench/search_bench.py --generate 100000 --repeat 20

Run ``manage.py migrate`` on the database first. --generate N adds N published
synthetic items (a province, its 11 cities and 90 counties, one department of
each kind per region, names made of real catalogue words) with bulk_create, then
indexes everything with ``reindex()`` and reports how long that took; --reindex
only rebuilds and times the index. Then every query of a list of typical ones is
run --repeat times (after one warm-up round) as the search page runs it (without
a facet, with the audience facet, with a region facet), and p50/p95/max are
printed in milliseconds, overall and per query.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# The development settings need no production secrets; query logging is switched off below.
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.conf import settings  # noqa: E402

settings.DEBUG = False  # with DEBUG on, Django keeps every query it runs, which the timings would include

from django.db import connection  # noqa: E402
from django.db.models import QuerySet  # noqa: E402

from services.codes import RegionLevel, uscc_check_character  # noqa: E402
from services.models import (  # noqa: E402
    Department,
    DepartmentKind,
    HandlingType,
    ItemType,
    OnlineDepth,
    Region,
    ServiceItem,
    ServiceSearchToken,
    Synonym,
)
from services.search import reindex, search_items  # noqa: E402

QUERIES = [
    "结婚",
    "结婚登记",
    "社保",
    "身份证",
    "开公司",
    "营业执照",
    "公积金提取",
    "医保",
    "不动产登记",
    "驾驶证补领",
    "出生医学证明",
    "食品经营许可证",
    "户口迁移",
    "婚",
    "证",
    "登记",
    "结昏登记",
    "结婚登录",
    "jiehun",
    "jhdj",
    "shebaoka",
    "行政处罚",
    "量子力学",
]

OBJECTS = [
    "居民身份证",
    "户口",
    "结婚",
    "离婚",
    "出生医学证明",
    "社会保障卡",
    "医疗保险",
    "养老保险",
    "失业保险",
    "工伤保险",
    "住房公积金",
    "营业执照",
    "食品经营许可证",
    "药品经营许可证",
    "建设工程规划许可证",
    "建筑工程施工许可证",
    "不动产",
    "机动车驾驶证",
    "机动车行驶证",
    "普通护照",
    "往来港澳通行证",
    "居住证",
    "教师资格证",
    "医师执业证书",
    "护士执业证书",
    "律师执业证",
    "道路运输经营许可证",
    "网络预约出租汽车",
    "危险化学品经营许可证",
    "烟草专卖零售许可证",
    "排污许可证",
    "取水许可证",
    "林木采伐许可证",
    "动物防疫条件合格证",
    "种子生产经营许可证",
    "娱乐场所经营许可证",
    "旅行社业务经营许可证",
    "民办学校",
    "幼儿园",
    "社会团体",
    "民办非企业单位",
    "基金会",
    "公司",
    "个体工商户",
    "农民专业合作社",
    "外商投资企业",
    "对外贸易经营者",
    "增值税发票",
    "残疾人证",
    "老年人优待证",
    "最低生活保障",
    "特困人员救助供养",
    "临时救助",
    "收养",
    "婚姻状况",
    "独生子女父母光荣证",
    "职业资格证书",
    "职业技能等级证书",
    "高层次人才",
    "人事档案",
    "退役军人",
    "法律援助",
    "公证",
    "司法鉴定",
    "地名",
    "宗教活动场所",
    "慈善组织",
    "殡葬设施",
    "消防设计",
    "特种设备使用",
]
ACTIONS = [
    "申领",
    "换领",
    "补领",
    "核发",
    "变更",
    "注销",
    "登记",
    "设立登记",
    "变更登记",
    "注销登记",
    "备案",
    "审批",
    "延续",
    "查询",
    "证明开具",
    "迁移",
    "认定",
    "年度报告",
    "补贴申请",
    "提取",
    "转移接续",
    "信息修改",
    "挂失",
    "申报",
    "撤销",
]
PHRASES = [
    "可在网上申报，全程网办",
    "须本人到窗口办理",
    "办结后邮寄送达",
    "符合条件的当场办结",
    "承诺期限内作出决定",
    "申请人对材料真实性负责",
]
SYNONYMS = {
    "身份证": "居民身份证",
    "开公司": "公司设立登记,企业开办",
    "社保": "社会保险,社会保障卡",
    "医保": "医疗保险",
    "驾照": "机动车驾驶证",
    "公积金": "住房公积金",
    "低保": "最低生活保障",
}


def _regions() -> list[Region]:
    province, _ = Region.objects.get_or_create(
        code="330000000000", defaults={"name": "浙江省", "level": RegionLevel.PROVINCE}
    )
    regions = [province]
    for city_number in range(1, 12):
        city, _ = Region.objects.get_or_create(
            code=f"33{city_number:02d}00000000",
            defaults={"name": f"第{city_number}市", "level": RegionLevel.CITY, "parent": province},
        )
        regions.append(city)
        for county_number in range(1, 9 if city_number <= 2 else 9 - (city_number % 2)):
            county, _ = Region.objects.get_or_create(
                code=f"33{city_number:02d}{county_number:02d}000000",
                defaults={"name": f"第{city_number}市第{county_number}县", "level": RegionLevel.COUNTY, "parent": city},
            )
            regions.append(county)
    return regions


def _departments(regions: list[Region]) -> list[Department]:
    departments = []
    serial = 0
    for region in regions:
        for kind in DepartmentKind:
            serial += 1
            first_seventeen = f"11{region.code[:6]}MB{serial:07d}"
            department, _ = Department.objects.get_or_create(
                region=region,
                kind=kind,
                defaults={
                    "uscc": first_seventeen + uscc_check_character(first_seventeen),
                    "name": f"{region.name}{kind}",
                },
            )
            departments.append(department)
    return departments


def _synthetic_items(count: int, departments: list[Department], seed: int) -> Iterator[ServiceItem]:
    """Items as a county-level catalogue has them: the same few thousand entries in every department.

    Three in ten are penalties (行政处罚), as in a real 权力清单; the rest are
    licences and services named object + action (营业执照 + 变更登记).
    """
    randomiser = random.Random(seed)
    pairs = [(obj, action) for obj in OBJECTS for action in ACTIONS]
    for number in range(count):
        department = departments[number % len(departments)]
        index = (number // len(departments) * 37 + number % len(departments)) % len(pairs)
        obj, action = pairs[index]
        is_penalty = randomiser.random() < 0.3
        if is_penalty:
            name = f"对{obj}{action}中弄虚作假的行政处罚"
            summary = f"对申请{obj}{action}时隐瞒有关情况或者提供虚假材料的，依法给予警告或者罚款。"
            item_type = ItemType.PENALTY
        else:
            name = obj + action
            summary = f"对符合条件的申请人办理{obj}{action}，{randomiser.choice(PHRASES)}。"
            item_type = ItemType.LICENSING
        for_persons = randomiser.random() < 0.5
        level = department.region.level
        basic_code = f"{index + 1 + (len(pairs) if is_penalty else 0):012d}"
        yield ServiceItem(
            implementation_code=f"{department.uscc}{level}{basic_code}",
            basic_code=basic_code,
            department=department,
            exercise_level=level,
            name=name,
            aliases=randomiser.choice(["", "", "", f"{obj}办理"]),
            summary=summary,
            item_type=item_type,
            for_persons=for_persons,
            for_enterprises=not for_persons,
            handling_type=HandlingType.COMMITTED,
            online_depth=OnlineDepth.ONLINE_ACCEPTANCE,
            star_level=randomiser.randint(3, 5),
            status=ServiceItem.Status.PUBLISHED,
        )


def generate(count: int) -> None:
    """Add ``count`` synthetic published items and index everything; print how long it took."""
    started = time.perf_counter()
    departments = _departments(_regions())
    batch: list[ServiceItem] = []
    for item in _synthetic_items(count, departments, seed=count):
        batch.append(item)
        if len(batch) == 2000:
            ServiceItem.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    ServiceItem.objects.bulk_create(batch, ignore_conflicts=True)
    for term, expansions in SYNONYMS.items():
        Synonym.objects.get_or_create(term=term, defaults={"expansions": expansions})
    print(f"generated {count} items over {len(departments)} departments in {time.perf_counter() - started:.1f} s")
    index_everything()


def index_everything() -> None:
    """Rebuild the whole index with ``reindex()`` and print how long it took."""
    started = time.perf_counter()
    indexed = reindex()
    elapsed = time.perf_counter() - started
    print(f"reindex(): {indexed} items, {ServiceSearchToken.objects.count()} tokens in {elapsed:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # What autovacuum does soon after a bulk load: statistics, and the visibility map for index-only scans.
            cursor.execute(f"VACUUM ANALYZE {ServiceSearchToken._meta.db_table}")
            cursor.execute(f"ANALYZE {ServiceItem._meta.db_table}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(repeat: int, queryset: QuerySet[ServiceItem] | None, label: str) -> None:
    for query in QUERIES:  # warm-up: caches, connection, jieba's dictionary
        search_items(query, queryset=queryset)
    timings: dict[str, list[float]] = {query: [] for query in QUERIES}
    totals: dict[str, int] = {}
    for _ in range(repeat):
        for query in QUERIES:
            started = time.perf_counter()
            results = search_items(query, queryset=queryset)
            timings[query].append((time.perf_counter() - started) * 1000)
            totals[query] = results.total
    everything = [timing for values in timings.values() for timing in values]
    print(f"\n{label}: {len(everything)} searches on {connection.vendor}")
    print(f"{'query':<14} {'total':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for query, values in timings.items():
        print(
            f"{query:<14} {totals[query]:>7} {percentile(values, 0.5):>8.1f} "
            f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f}"
        )
    print(
        f"{'ALL':<14} {'':>7} {percentile(everything, 0.5):>8.1f} "
        f"{percentile(everything, 0.95):>8.1f} {max(everything):>8.1f} (mean {statistics.mean(everything):.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", type=int, default=0, metavar="N", help="add N synthetic published items first")
    parser.add_argument("--reindex", action="store_true", help="rebuild the whole index first, timed")
    parser.add_argument("--repeat", type=int, default=10, help="rounds over the query list (default 10)")
    arguments = parser.parse_args()
    if arguments.generate:
        generate(arguments.generate)
    elif arguments.reindex:
        index_everything()
    published = ServiceItem.objects.published()
    print(f"published items: {published.count()}")
    # As the search page asks: published items, then the visitor's facets.
    measure(arguments.repeat, published, "no facet")
    measure(arguments.repeat, published.filter(for_persons=True), "audience facet (for_persons)")
    county = Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").first()
    if county is not None and county.parent is not None:
        chain = [county.code, county.parent.code, "330000000000"]
        measure(arguments.repeat, published.filter(department__region__code__in=chain), f"region facet ({county.code})")


if __name__ == "__main__":
    main()
