"""Catalogue search: Chinese without spaces, synonyms, homophone slips, pinyin, ranking, paging."""

from __future__ import annotations

import pytest

from services.codes import RegionLevel, uscc_check_character
from services.models import (
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
from services.search import SearchResults, cached_search_items, reindex, search_items, unindex
from services.selectors import catalogue_changed

# Search must give the same answers on the embedded default (SQLite).
pytestmark = [pytest.mark.both_databases, pytest.mark.django_db]


def make_department(region: Region, kind: str, serial: str) -> Department:
    first_seventeen = f"11330000MB{serial:0>7}"
    return Department.objects.create(
        uscc=first_seventeen + uscc_check_character(first_seventeen), name=f"部门{serial}", kind=kind, region=region
    )


def make_item(
    department: Department,
    basic_code: str,
    name: str,
    *,
    aliases: str = "",
    summary: str = "",
    star_level: int = 3,
    status: str = ServiceItem.Status.PUBLISHED,
    version: int = 1,
) -> ServiceItem:
    level = RegionLevel.PROVINCE
    return ServiceItem.objects.create(
        implementation_code=f"{department.uscc}{level}{basic_code}",
        basic_code=basic_code,
        department=department,
        exercise_level=level,
        name=name,
        aliases=aliases,
        summary=summary,
        item_type=ItemType.CONFIRMATION,
        handling_type=HandlingType.COMMITTED,
        online_depth=OnlineDepth.ONLINE_ACCEPTANCE,
        star_level=star_level,
        status=status,
        version=version,
    )


@pytest.fixture
def region() -> Region:
    return Region.objects.create(code="330000000000", name="浙江省", level=RegionLevel.PROVINCE)


@pytest.fixture
def civil_affairs(region: Region) -> Department:
    return make_department(region, DepartmentKind.CIVIL_AFFAIRS, "1")


@pytest.fixture
def public_security(region: Region) -> Department:
    return make_department(region, DepartmentKind.PUBLIC_SECURITY, "2")


@pytest.fixture
def catalogue(civil_affairs: Department, public_security: Department, region: Region) -> dict[str, ServiceItem]:
    """A small catalogue, indexed; keys are the item names."""
    market = make_department(region, DepartmentKind.MARKET_REGULATION, "3")
    social = make_department(region, DepartmentKind.HUMAN_RESOURCES, "4")
    items = [
        make_item(civil_affairs, "000000000001", "结婚登记", summary="内地居民办理结婚登记，双方须亲自到场。"),
        make_item(civil_affairs, "000000000002", "离婚登记", summary="自愿离婚的双方共同到婚姻登记机关申请。"),
        make_item(civil_affairs, "000000000003", "婚姻状况证明", aliases="结婚证明,单身证明"),
        make_item(public_security, "000000000004", "户口迁移", summary="因结婚投靠配偶等原因迁移户口。"),
        make_item(public_security, "000000000005", "居民身份证换领", summary="有效期满或证件损坏的换领新证。"),
        make_item(social, "000000000006", "社会保障卡申领", summary="首次申领社会保障卡。"),
        make_item(market, "000000000007", "公司设立登记", aliases="企业开办", summary="设立有限责任公司。"),
        make_item(market, "000000000008", "个体工商户注销登记", summary="个体工商户停止经营的。"),
    ]
    Synonym.objects.create(term="身份证", expansions="居民身份证")
    Synonym.objects.create(term="开公司", expansions="公司设立登记,企业开办")
    assert reindex() == len(items)
    return {item.name: item for item in items}


def names(results: SearchResults) -> list[str]:
    by_id = dict(ServiceItem.objects.filter(pk__in=results.item_ids).values_list("pk", "name"))
    return [by_id[item_id] for item_id in results.item_ids]


def test_two_characters_find_the_item_named_by_them_first(catalogue):
    # when
    results = search_items("结婚")
    # then: name, then alias, then summary
    assert names(results) == ["结婚登记", "婚姻状况证明", "户口迁移"]
    assert results.total == 3
    assert results.suggestion is None


def test_an_abbreviation_finds_the_full_name(catalogue):
    # when
    results = search_items("社保")
    # then: 社会保障 is shortened to 社保
    assert names(results) == ["社会保障卡申领"]


def test_a_synonym_finds_what_it_stands_for(catalogue):
    # when
    id_card = search_items("身份证")
    company = search_items("开公司")
    # then
    assert names(id_card) == ["居民身份证换领"]
    assert names(company) == ["公司设立登记"]


def test_a_synonym_that_shares_no_character_finds_the_item_only_through_the_table(catalogue):
    # given: 扯证 is how people say "get the marriage certificate"
    assert search_items("扯证").total == 0
    Synonym.objects.create(term="扯证", expansions="结婚登记")
    # when
    results = search_items("我要扯证")
    # then
    assert names(results) == ["结婚登记"]


def test_a_homophone_slip_of_pinyin_input_still_finds_the_item(catalogue):
    # when: 昏 for 婚, both "hun"
    results = search_items("结昏登记")
    # then
    assert results == SearchResults(item_ids=[catalogue["结婚登记"].pk], total=1, suggestion=None)


def test_one_wrong_character_that_is_no_homophone_still_finds_the_item(catalogue):
    # when: 录 (lu) for 记 (ji)
    results = search_items("结婚登录")
    # then
    assert names(results) == ["结婚登记"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("jiehun", ["结婚登记", "婚姻状况证明"]),  # the second by its alias 结婚证明
        ("JieHun", ["结婚登记", "婚姻状况证明"]),
        ("jie hun", ["结婚登记", "婚姻状况证明"]),
        ("jiehundengji", ["结婚登记", "离婚登记"]),  # the second shares hun-deng-ji
        ("jhdj", ["结婚登记"]),
        ("ＪＨＤＪ", ["结婚登记"]),
    ],
)
def test_pinyin_and_initials_find_the_item(catalogue, query, found):
    # when
    results = search_items(query)
    # then
    assert names(results) == found


def test_one_character_finds_every_item_with_it_in_name_or_alias(catalogue):
    # when
    results = search_items("婚")
    # then: in names before aliases; the same score for all three, so the order of creation decides
    assert names(results) == ["结婚登记", "离婚登记", "婚姻状况证明"]


def test_ties_are_broken_by_star_level_then_item_id(catalogue, civil_affairs, public_security):
    # given: the same item at two more departments, one with more stars
    county = make_department(civil_affairs.region, DepartmentKind.GOVERNMENT_OFFICE, "9")
    summary = "内地居民办理结婚登记，双方须亲自到场。"
    five_star = make_item(county, "000000000001", "结婚登记", summary=summary, star_level=5)
    other = make_item(public_security, "000000000001", "结婚登记", summary=summary)
    reindex([five_star.pk, other.pk])
    # when
    results = search_items("结婚登记", limit=3)
    # then
    assert results.item_ids == [five_star.pk, catalogue["结婚登记"].pk, other.pk]


def test_only_published_versions_are_found(catalogue, civil_affairs):
    # given: a retired version of a published item, and a draft of a new one
    marriage = catalogue["结婚登记"]
    retired = make_item(civil_affairs, "000000000001", "结婚登记（旧）", status=ServiceItem.Status.RETIRED, version=0)
    draft = make_item(civil_affairs, "000000000009", "结婚纪念", status=ServiceItem.Status.DRAFT)
    # when
    indexed = reindex([retired.pk, draft.pk, marriage.pk])
    results = search_items("结婚")
    # then
    assert indexed == 1
    assert retired.pk not in results.item_ids
    assert draft.pk not in results.item_ids
    assert ServiceSearchToken.objects.filter(item_id__in=[retired.pk, draft.pk]).count() == 0


def test_a_retired_item_leaves_search_when_reindexed(catalogue):
    # given
    marriage = catalogue["结婚登记"]
    ServiceItem.objects.filter(pk=marriage.pk).update(status=ServiceItem.Status.RETIRED)
    # when
    indexed = reindex([marriage.pk])
    # then
    assert indexed == 0
    assert ServiceSearchToken.objects.filter(item_id=marriage.pk).count() == 0
    assert names(search_items("结婚登记")) == ["离婚登记"]


def test_a_status_changed_without_reindex_is_still_filtered_out(catalogue):
    # given: the tokens are still there
    marriage = catalogue["结婚登记"]
    ServiceItem.objects.filter(pk=marriage.pk).update(status=ServiceItem.Status.RETIRED)
    # when
    results = search_items("结婚登记")
    # then
    assert names(results) == ["离婚登记"]


def test_unindex_removes_items_from_search(catalogue):
    # given
    marriage = catalogue["结婚登记"]
    # when
    unindex([marriage.pk])
    # then
    assert marriage.pk not in search_items("结婚").item_ids
    assert ServiceSearchToken.objects.filter(item_id=marriage.pk).count() == 0


def test_deleting_an_item_deletes_its_tokens(catalogue, civil_affairs):
    # given: an indexed item that is deleted (a catalogue entry created by mistake)
    mistake = make_item(civil_affairs, "000000000010", "结婚登记错误条目")
    reindex([mistake.pk])
    # when
    mistake.delete()
    # then
    assert ServiceSearchToken.objects.filter(item_id=mistake.pk).count() == 0
    assert names(search_items("结婚登记")) == ["结婚登记", "离婚登记"]


def test_reindex_of_everything_is_idempotent(catalogue):
    # given
    before = sorted(ServiceSearchToken.objects.values_list("item_id", "token", "weight"))
    # when
    indexed = reindex()
    # then
    assert indexed == 8
    assert sorted(ServiceSearchToken.objects.values_list("item_id", "token", "weight")) == before


def test_a_queryset_of_published_items_gives_what_no_queryset_gives(catalogue):
    # when
    within_published = search_items("登记", queryset=ServiceItem.objects.published())
    # then
    assert within_published == search_items("登记")
    assert within_published.total == 4


def test_the_given_queryset_limits_the_results(catalogue, public_security):
    # when
    results = search_items("结婚", queryset=ServiceItem.objects.filter(department=public_security))
    # then
    assert names(results) == ["户口迁移"]
    assert results.total == 1


def test_paging_returns_the_requested_slice_and_the_total(catalogue):
    # given
    everything = search_items("登记")
    # when
    second_page = search_items("登记", offset=2, limit=2)
    past_the_end = search_items("登记", offset=10, limit=2)
    # then
    assert names(everything) == ["结婚登记", "离婚登记", "公司设立登记", "个体工商户注销登记"]
    assert second_page == SearchResults(item_ids=everything.item_ids[2:4], total=4, suggestion=None)
    assert past_the_end == SearchResults(item_ids=[], total=4, suggestion=None)


def test_when_nothing_matches_the_closest_name_is_suggested(catalogue):
    # when: two characters wrong, neither a homophone
    results = search_items("结姻登录")
    # then
    assert results == SearchResults(item_ids=[], total=0, suggestion="结婚登记")


def test_when_nothing_is_close_there_is_no_suggestion(catalogue):
    # when
    results = search_items("量子力学")
    # then
    assert results == SearchResults(item_ids=[], total=0, suggestion=None)


def test_a_synonym_term_can_be_the_suggestion(catalogue):
    # given
    Synonym.objects.create(term="公积金提取", expansions="住房公积金提取")
    # when
    results = search_items("公基金提")
    # then
    assert results.suggestion == "公积金提取"


def test_an_empty_query_finds_nothing_without_touching_the_database(catalogue, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        results = [search_items(query) for query in ["", "   ", "\u3000", "！？。"]]
        in_nothing = search_items("结婚", queryset=ServiceItem.objects.none())
    # then
    assert results == [SearchResults(item_ids=[], total=0, suggestion=None)] * 4
    assert in_nothing == SearchResults(item_ids=[], total=0, suggestion=None)


def test_a_long_query_is_cut_to_fifty_characters(catalogue):
    # when
    within = search_items("啊" * 46 + "结婚登记")
    beyond = search_items("啊" * 50 + "结婚登记")
    # then
    assert names(within) == ["结婚登记"]
    assert beyond.total == 0


def test_a_search_runs_two_queries_however_many_items_match(catalogue, django_assert_num_queries):
    # when / then: the synonyms, the results
    with django_assert_num_queries(2):
        one = search_items("社保")
    with django_assert_num_queries(2):
        several = search_items("登记", queryset=ServiceItem.objects.filter(item_type=ItemType.CONFIRMATION))
    assert (one.total, several.total) == (1, 4)


def test_a_search_with_a_wrong_character_runs_one_more_query(catalogue, django_assert_num_queries):
    # when / then: the synonyms, the results as typed (none), the fuzzy results
    with django_assert_num_queries(3):
        results = search_items("结昏登记")
    assert names(results)[0] == "结婚登记"


def test_a_search_that_finds_nothing_runs_five_queries(catalogue, django_assert_num_queries):
    # when / then: as above, then the near misses and the synonym terms for the suggestion
    with django_assert_num_queries(5):
        results = search_items("结姻登录")
    assert results.suggestion == "结婚登记"


def test_a_cached_search_runs_only_the_synonyms_query_the_second_time(catalogue, django_assert_num_queries):
    # given
    first = cached_search_items("结婚")
    # when / then: the synonyms are read each time; the results come from the cache
    with django_assert_num_queries(1):
        second = cached_search_items("结婚")
    assert second == first
    assert names(second) == ["结婚登记", "婚姻状况证明", "户口迁移"]


def test_a_cached_search_finds_an_item_published_since(catalogue, civil_affairs):
    # given
    assert cached_search_items("结婚").total == 3
    # when: what publishing does after its commit
    added = make_item(civil_affairs, "000000000011", "结婚登记补发证明")
    reindex([added.pk])
    catalogue_changed()
    # then
    results = cached_search_items("结婚")
    assert results.total == 4
    assert added.pk in results.item_ids


def test_a_new_synonym_applies_to_a_cached_search_at_once(catalogue):
    # given
    assert cached_search_items("开店").total == 0
    # when: synonyms need no reindex and change no catalogue generation
    Synonym.objects.create(term="开店", expansions="个体工商户")
    # then
    assert names(cached_search_items("开店")) == ["个体工商户注销登记"]


def test_a_cached_search_keeps_pages_and_querysets_apart(catalogue, civil_affairs):
    # when
    first_page = cached_search_items("登记", limit=2)
    second_page = cached_search_items("登记", offset=2, limit=2)
    of_civil_affairs = cached_search_items("登记", queryset=ServiceItem.objects.filter(department=civil_affairs))
    # then
    assert first_page == search_items("登记", limit=2)
    assert second_page == search_items("登记", offset=2, limit=2)
    assert first_page.total == second_page.total == 4
    assert set(first_page.item_ids).isdisjoint(second_page.item_ids)
    assert sorted(names(of_civil_affairs)) == ["离婚登记", "结婚登记"]


def test_the_search_page_says_when_a_filter_in_the_address_was_left_out(client, catalogue):
    response = client.get("/en/search/", {"q": "结婚", "star": "abc"})
    plain = client.get("/en/search/", {"q": "结婚", "star": "5"})

    assert response.status_code == 200
    assert "Some choices in the address were not recognised and have been left out." in response.content.decode()
    assert "not recognised" not in plain.content.decode()
