"""Finding a local service: the region of a search or theme page, remembered, defaulting to the household's
district, named in the query; one result per service that many regions offer, leading to the right district's item."""

from __future__ import annotations

import pytest

from accounts.selectors import HOME_REGION_PURPOSE
from datahub.models import DataAccessLog, PersonRecord
from services.region_choice import REGION_COOKIE
from services.search import reindex, search_items
from services.selectors import catalogue_changed
from tests.datahub.builders import make_wang_household
from tests.factories import email_user
from tests.helpers import get_counting_queries, logged_in
from tests.services.factories import DepartmentFactory, ServiceItemFactory, ThemeFactory, region

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

PROVINCE = "330000000000"
HANGZHOU = "330100000000"
SHANGCHENG = "330102000000"
XIHU = "330106000000"
BINJIANG = "330108000000"
NINGBO = "330200000000"
HAISHU = "330203000000"
MARRIAGE_CODE = "330106000001"


@pytest.fixture
def districts():
    """结婚登记 (one basic code) registered by four districts in two cities, and a city-level item."""
    province = region(PROVINCE, "浙江省")
    region(HANGZHOU, "杭州市")
    region(NINGBO, "宁波市")
    marriage_theme = ThemeFactory.create(slug="marriage-family", name="婚育收养", audience="person")
    items = {}
    for code, name in ((SHANGCHENG, "上城区"), (XIHU, "西湖区"), (BINJIANG, "滨江区"), (HAISHU, "海曙区")):
        department = DepartmentFactory.create(region=region(code, name), name=f"{name}民政局", kind="civil_affairs")
        items[code] = ServiceItemFactory.create(
            department=department, name="结婚登记", basic_code=MARRIAGE_CODE, themes=[marriage_theme]
        )
    hangzhou_office = DepartmentFactory.create(region=region(HANGZHOU), name="杭州市民政局", kind="civil_affairs")
    items["city"] = ServiceItemFactory.create(department=hangzhou_office, name="婚姻登记档案查询")
    province_office = DepartmentFactory.create(region=province, name="浙江省民政厅", kind="civil_affairs")
    items["province"] = ServiceItemFactory.create(department=province_office, name="涉外结婚登记")
    reindex()
    catalogue_changed()
    return items


def _found(response):
    return [(item.name, item.department.name) for item in response.context["items"]]


def _marriage_rows(response):
    return [item for item in response.context["items"] if item.name == "结婚登记"]


# --- the region filter ---------------------------------------------------------------


def test_a_search_in_a_district_finds_that_districts_item_and_those_above_it(client, districts):
    response = client.get("/search/", {"q": "结婚", "region": XIHU})
    assert sorted(_found(response)) == [("涉外结婚登记", "浙江省民政厅"), ("结婚登记", "西湖区民政局")]
    assert response.context["total"] == 2


def test_a_search_in_a_city_shows_one_marriage_registration_for_its_three_districts(client, districts):
    response = client.get("/search/", {"q": "结婚", "region": HANGZHOU})
    rows = _marriage_rows(response)
    assert len(rows) == 1
    # Nobody's district is known: the lowest region code of the city leads.
    assert rows[0].pk == districts[SHANGCHENG].pk
    assert rows[0].implementations == 3
    assert response.context["total"] == 2


def test_a_search_in_every_region_shows_each_service_once_and_links_to_the_others(client, districts):
    response = client.get("/search/", {"q": "结婚", "region": ""})
    rows = _marriage_rows(response)
    assert [row.implementations for row in rows] == [4]
    body = response.content.decode()
    assert f'href="/services/?basic_code={MARRIAGE_CODE}"' in body
    assert "还有 3 个地区办理" in body
    others = client.get("/services/", {"basic_code": MARRIAGE_CODE})
    assert sorted(item.department.name for item in others.context["page"].object_list) == [
        "上城区民政局",
        "海曙区民政局",
        "滨江区民政局",
        "西湖区民政局",
    ]


def test_the_region_form_works_without_javascript_and_shows_the_choice(client, districts):
    body = client.get("/search/", {"q": "结婚", "region": XIHU}).content.decode()
    assert '<select id="region-choice" name="region"' in body
    assert f'<option value="{XIHU}" selected>西湖区</option>' in body
    assert '<optgroup label="杭州市">' in body
    assert "正在显示西湖区的服务。" in body


def test_a_region_that_does_not_exist_is_left_out_and_said_so(client, districts):
    response = client.get("/search/", {"q": "结婚", "region": "339999000000"})
    assert response.context["is_ignored"] is True
    assert len(_found(response)) == 2  # every region's services, one per service
    assert REGION_COOKIE not in response.cookies


# --- remembered ----------------------------------------------------------------------


def test_an_anonymous_visitors_region_is_remembered_in_a_cookie(client, districts):
    first = client.get("/search/", {"q": "结婚", "region": BINJIANG})
    assert first.cookies[REGION_COOKIE].value == BINJIANG
    assert first.cookies[REGION_COOKIE]["httponly"] is True
    again = client.get("/search/", {"q": "结婚"})
    assert [row.pk for row in _marriage_rows(again)] == [districts[BINJIANG].pk]
    theme = client.get("/services/themes/marriage-family/")
    assert [item.pk for item in theme.context["page"].object_list if item.name == "结婚登记"] == [
        districts[BINJIANG].pk
    ]
    assert "sessionid" not in client.cookies  # the page cache still serves this visitor


def test_choosing_every_region_is_remembered_too(client, districts):
    client.get("/search/", {"q": "结婚", "region": BINJIANG})
    client.get("/search/", {"q": "结婚", "region": ""})
    again = client.get("/search/", {"q": "结婚"})
    assert again.context["region_choice"].code == ""
    assert [row.implementations for row in _marriage_rows(again)] == [4]


def test_a_remembered_cookie_that_is_not_a_region_is_ignored(client, districts):
    client.cookies[REGION_COOKIE] = "<script>"
    response = client.get("/search/", {"q": "结婚"})
    assert response.status_code == 200
    assert response.context["region_choice"].code == ""


def test_a_signed_in_users_region_is_remembered_in_the_session(districts):
    user_client = logged_in(email_user("unverified@example.com"))
    first = user_client.get("/search/", {"q": "结婚", "region": HAISHU})
    assert REGION_COOKIE not in first.cookies
    assert user_client.session["catalogue_region"] == HAISHU
    again = user_client.get("/search/", {"q": "结婚"})
    assert [row.pk for row in _marriage_rows(again)] == [districts[HAISHU].pk]


# --- the household's district ----------------------------------------------------------


def test_a_verified_citizen_searches_their_household_district_by_default(citizen, districts):
    make_wang_household()
    citizen_client = logged_in(citizen)
    response = citizen_client.get("/search/", {"q": "结婚"})
    assert response.context["region_choice"].code == XIHU
    assert [row.pk for row in _marriage_rows(response)] == [districts[XIHU].pk]
    assert "正在显示西湖区的服务，这是您户籍所在地。" in response.content.decode()
    # The registry is read once a session, with its purpose.
    citizen_client.get("/search/", {"q": "登记"})
    assert DataAccessLog.objects.filter(actor_id=citizen.pk, purpose=HOME_REGION_PURPOSE).count() == 1


def test_a_citizen_choosing_their_city_is_led_to_their_own_districts_item(citizen, districts):
    make_wang_household()
    response = logged_in(citizen).get("/search/", {"q": "结婚", "region": HANGZHOU})
    rows = _marriage_rows(response)
    assert [(row.pk, row.implementations) for row in rows] == [(districts[XIHU].pk, 3)]


def test_a_citizen_choosing_another_city_is_led_to_its_first_district(citizen, districts):
    make_wang_household()
    response = logged_in(citizen).get("/search/", {"q": "结婚", "region": NINGBO})
    assert [row.pk for row in _marriage_rows(response)] == [districts[HAISHU].pk]


def test_an_unverified_user_has_no_default_region_and_nothing_is_read(districts):
    user = email_user("newcomer@example.com")
    response = logged_in(user).get("/search/", {"q": "结婚"})
    assert response.context["region_choice"].code == ""
    assert not DataAccessLog.objects.filter(actor_id=user.pk).exists()


# --- a place named in the query --------------------------------------------------------


@pytest.mark.parametrize("query", ["结婚 西湖", "西湖区结婚", "结婚西湖区"])
def test_a_query_that_names_a_place_searches_that_place(client, districts, query):
    response = client.get("/search/", {"q": query})
    assert response.context["region_choice"].code == XIHU
    assert [row.pk for row in _marriage_rows(response)] == [districts[XIHU].pk]
    assert _found(response)[0] == ("结婚登记", "西湖区民政局")
    body = response.content.decode()
    assert "正在显示西湖区的服务，这是您搜索中提到的地方。" in body
    assert "?q=%E7%BB%93%E5%A9%9A&amp;region=" in body  # search every region for 结婚 instead
    assert REGION_COOKIE not in response.cookies  # for this search only


def test_a_place_in_the_query_wins_over_the_remembered_region(client, districts):
    client.get("/search/", {"q": "结婚", "region": BINJIANG})
    response = client.get("/search/", {"q": "滨江 结婚", "region": SHANGCHENG})
    assert response.context["region_choice"].code == BINJIANG


def test_a_query_that_is_only_a_place_is_searched_as_typed(client, districts):
    response = client.get("/search/", {"q": "西湖区"})
    assert response.context["region_choice"].source != "place"


# --- one result per service, in the database ------------------------------------------


def test_collapsing_runs_in_the_search_query_itself(districts, django_assert_num_queries):
    with django_assert_num_queries(2):  # synonyms, results
        results = search_items("结婚", one_per_service=(XIHU, HANGZHOU, PROVINCE))
    assert results.total == 2
    assert districts[XIHU].pk in results.item_ids
    assert results.implementations[districts[XIHU].pk] == 4


def test_a_page_past_the_end_counts_services_not_items(districts):
    every_item = search_items("结婚登记")
    first_page = search_items("结婚登记", one_per_service=())
    past_the_end = search_items("结婚登记", offset=20, limit=20, one_per_service=())
    assert every_item.total == 6
    assert len(first_page.item_ids) == first_page.total == 3
    assert past_the_end.item_ids == []
    assert past_the_end.total == 3


# --- theme pages ------------------------------------------------------------------------


def test_a_theme_page_offers_the_region_and_shows_each_service_once(client, districts):
    response = client.get("/services/themes/marriage-family/", {"region": HANGZHOU})
    items = list(response.context["page"].object_list)
    assert [(item.pk, item.implementations) for item in items] == [(districts[SHANGCHENG].pk, 3)]
    assert response.context["page"].paginator.count == 1
    assert '<select id="region-choice" name="region"' in response.content.decode()


def test_a_theme_page_keeps_its_order_and_says_when_a_region_was_left_out(client, districts):
    catalogue_changed()
    ServiceItemFactory.create(
        department=districts["city"].department,
        name="婚姻家庭辅导",
        star_level=3,
        themes=list(districts[XIHU].themes.all()),
    )
    response = client.get("/services/themes/marriage-family/", {"region": "339999000000"})
    assert [item.name for item in response.context["page"].object_list] == ["结婚登记", "婚姻家庭辅导"]
    assert "网址中的部分筛选条件无法识别，已忽略。" in response.content.decode()


# --- the theme facet ---------------------------------------------------------------------


@pytest.fixture
def themed(districts):
    """An item for individuals and enterprises alike, in a theme of each audience with the same name."""
    person_tax = ThemeFactory.create(slug="person-tax", name="纳税缴费", audience="person", position=4)
    enterprise_tax = ThemeFactory.create(slug="enterprise-tax", name="纳税缴费", audience="enterprise", position=4)
    business = ThemeFactory.create(slug="business-start", name="企业开办", audience="enterprise", position=1)
    ServiceItemFactory.create(
        department=districts[XIHU].department,
        name="契税申报",
        served_parties=["1", "2"],
        themes=[person_tax, enterprise_tax, business],
    )
    catalogue_changed()


def _theme_facet(response):
    return [(value.value, value.label, value.count) for value in response.context["facets"]["theme"]]


def test_after_choosing_a_city_its_districts_life_events_are_still_offered(client, districts):
    response = client.get("/services/", {"region": HANGZHOU})
    assert ("marriage-family", "婚育收养", 3) in _theme_facet(response)


def test_under_individuals_only_individuals_themes_are_offered_each_once(client, themed):
    response = client.get("/services/", {"audience": "person"})
    assert _theme_facet(response) == [("marriage-family", "婚育收养", 4), ("person-tax", "纳税缴费", 1)]
    enterprises = client.get("/services/", {"audience": "enterprise"})
    assert _theme_facet(enterprises) == [("business-start", "企业开办", 1), ("enterprise-tax", "纳税缴费", 1)]


def test_without_an_audience_the_themes_are_grouped_by_audience(client, themed):
    body = client.get("/services/").content.decode()
    individuals, enterprises = body.index('<optgroup label="个人">'), body.index('<optgroup label="法人">')
    assert individuals < body.index('value="person-tax"') < enterprises < body.index('value="enterprise-tax"')
    assert body.count("纳税缴费 (1)") == 2


def test_a_repeated_search_in_a_remembered_region_runs_two_queries(client, districts):
    client.get("/search/", {"q": "结婚", "region": HANGZHOU})
    _response, queries = get_counting_queries(client, "/search/?q=结婚")
    assert len(queries) == 2, queries  # the synonyms, the page's items: the results and the regions are kept


def test_a_repeated_search_of_a_signed_in_citizen_reads_no_registry(citizen, districts):
    make_wang_household()
    citizen_client = logged_in(citizen)
    citizen_client.get("/search/", {"q": "结婚"})
    _response, queries = get_counting_queries(citizen_client, "/search/?q=结婚")
    # the session, the user, the synonyms, the page's items (and whatever the layout reads for a signed-in user)
    assert not [query for query in queries if "datahub" in query]


def test_a_household_registered_in_a_village_defaults_to_its_district(citizen, districts):
    make_wang_household()
    PersonRecord.objects.update(household_region_code="330106001002")  # a village of 西湖区, not in the catalogue
    response = logged_in(citizen).get("/search/", {"q": "结婚"})
    assert response.context["region_choice"].code == XIHU
    assert [row.pk for row in _marriage_rows(response)] == [districts[XIHU].pk]
