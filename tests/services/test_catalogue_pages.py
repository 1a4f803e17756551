"""The catalogue pages: facets that combine, region semantics, guides, departments, themes, power list."""

import csv
import io

import pytest

from services.selectors import catalogue_changed
from tests.helpers import assert_query_count, get_counting_queries
from tests.services.factories import DepartmentFactory, ServiceItemFactory, ThemeFactory, region

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def catalogue():
    """A small province: items at province, city (杭州), county (西湖区) and another city (宁波)."""
    province = region("330000000000", "浙江省")
    hangzhou = region("330100000000", "杭州市")
    xihu = region("330106000000", "西湖区")
    ningbo = region("330200000000", "宁波市")
    marriage = ThemeFactory.create(slug="marriage", name="婚育收养", audience="person")
    business = ThemeFactory.create(slug="business", name="企业开办", audience="enterprise")
    departments = {
        "province": DepartmentFactory.create(region=province, name="浙江省民政厅", kind="civil_affairs"),
        "hangzhou": DepartmentFactory.create(region=hangzhou, name="杭州市民政局", kind="civil_affairs"),
        "xihu": DepartmentFactory.create(region=xihu, name="杭州市西湖区民政局", kind="civil_affairs"),
        "ningbo": DepartmentFactory.create(region=ningbo, name="宁波市民政局", kind="civil_affairs"),
        "market": DepartmentFactory.create(region=hangzhou, name="杭州市市场监督管理局", kind="market_regulation"),
    }
    items = {
        "adoption": ServiceItemFactory.create(department=departments["province"], name="收养登记", themes=[marriage]),
        "marriage": ServiceItemFactory.create(
            department=departments["xihu"],
            name="结婚登记",
            themes=[marriage],
            handling_type="1",
            legal_limit=None,
            promised_limit=None,
        ),
        "divorce": ServiceItemFactory.create(department=departments["hangzhou"], name="离婚登记", themes=[marriage]),
        "ningbo": ServiceItemFactory.create(department=departments["ningbo"], name="宁波婚姻登记", themes=[marriage]),
        "company": ServiceItemFactory.create(
            department=departments["market"],
            name="公司设立登记",
            served_parties=["2"],
            themes=[business],
            star_level=4,
            visits=1,
            online_depth=4,
            item_type="07",
            fees=[
                {"code": "fee", "name": "登记费", "standard": "每件80元", "amount_fen": 8000, "legal_basis": "收费文件"}
            ],
        ),
        "retired": ServiceItemFactory.create(department=departments["xihu"], name="旧事项", status="retired"),
    }
    catalogue_changed()
    return {"items": items, "departments": departments}


def _names(response):
    return [item.name for item in response.context["page"].object_list]


def test_audience_splits_individuals_from_enterprises(client, catalogue):
    persons = client.get("/services/?audience=person")
    enterprises = client.get("/services/?audience=enterprise")
    assert sorted(_names(persons)) == ["宁波婚姻登记", "收养登记", "离婚登记", "结婚登记"]
    assert _names(enterprises) == ["公司设立登记"]
    assert "个人办事" in persons.content.decode()


def test_a_county_shows_its_own_items_and_those_of_the_city_and_province_above_it(client, catalogue):
    response = client.get("/services/?region=330106000000")
    assert sorted(_names(response)) == ["公司设立登记", "收养登记", "离婚登记", "结婚登记"]


def test_a_city_shows_its_own_items_and_those_of_its_counties_and_province_but_not_another_citys(client, catalogue):
    response = client.get("/services/?region=330100000000")
    assert sorted(_names(response)) == ["公司设立登记", "收养登记", "离婚登记", "结婚登记"]


def test_facets_combine_and_count_what_each_choice_would_show(client, catalogue):
    response = client.get("/services/?region=330106000000&theme=marriage")
    facets = response.context["facets"]
    assert sorted(_names(response)) == ["收养登记", "离婚登记", "结婚登记"]
    assert {value.value: value.count for value in facets["audience"]} == {"person": 3, "enterprise": 0}
    # The theme facet counts as if no theme were chosen (other facets still apply).
    assert {value.value: value.count for value in facets["theme"]} == {"marriage": 3, "business": 1}
    regions = {value.value: value.count for value in facets["region"]}
    assert regions["330000000000"] == 4  # the province holds every item below it
    assert regions["330100000000"] == 3  # 杭州市's own, 西湖区's and the province's
    assert regions["330106000000"] == 3  # the counties of the chosen city appear
    assert regions["330200000000"] == 2


def test_star_type_and_online_facets(client, catalogue):
    assert _names(client.get("/services/?star=4")) == ["公司设立登记"]
    assert _names(client.get("/services/?item_type=07")) == ["公司设立登记"]
    assert "公司设立登记" not in _names(client.get("/services/?online=1"))


def test_values_that_are_not_codes_are_left_out_and_said_so(client, catalogue):
    response = client.get("/services/?region=abc&star=9&audience=nobody")
    assert response.status_code == 200
    assert len(_names(response)) == 5
    assert response.context["filters"].ignored == ("audience", "region", "star")


def test_list_page_queries_stay_the_same_when_the_catalogue_grows_tenfold(client, catalogue):
    department = catalogue["departments"]["hangzhou"]

    def queries_now():
        catalogue_changed()
        _cold, cold_queries = get_counting_queries(client, "/services/?audience=person&region=330106000000")
        _warm, warm_queries = get_counting_queries(client, "/services/?audience=person&region=330106000000")
        return len(cold_queries), warm_queries

    cold_small, warm_small = queries_now()
    ServiceItemFactory.create_batch(50, department=department)
    cold_large, warm_large = queries_now()

    assert cold_large == cold_small
    assert_query_count(warm_large, len(warm_small))
    assert_query_count(warm_small, 1)  # the page; its number of items and the facets come from the cache


def test_guide_page_says_everything_a_citizen_needs(client, catalogue):
    item = catalogue["items"]["company"]
    response, queries = get_counting_queries(client, f"/services/{item.implementation_code}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>公司设立登记</h1>" in body
    assert "法定 20 个工作日，承诺 5 个工作日办结" in body
    assert "到现场 1 次" in body
    assert "80.00" in body
    assert "居民身份证" in body
    assert item.implementation_code in body
    assert_query_count(queries, 3)  # item with department, themes, bundles


def test_an_item_decided_at_once_says_so(client, catalogue):
    item = catalogue["items"]["marriage"]
    body = client.get(f"/services/{item.implementation_code}/").content.decode()
    assert "即办" in body
    assert "免费" in body


def test_guide_in_english(client, catalogue):
    item = catalogue["items"]["company"]
    body = client.get(f"/en/services/{item.implementation_code}/").content.decode()
    assert "Statutory limit 20 working days, promised to be completed in 5 working days" in body


def test_retired_and_unknown_items_are_not_found(client, catalogue):
    assert client.get(f"/services/{catalogue['items']['retired'].implementation_code}/").status_code == 404
    assert client.get("/services/" + "1" * 31 + "/").status_code == 404


def test_department_shop_lists_its_items(client, catalogue):
    department = catalogue["departments"]["xihu"]
    response = client.get(f"/services/departments/{department.uscc}/")
    assert response.status_code == 200
    assert _names(response) == ["结婚登记"]
    assert client.get("/services/departments/").status_code == 200
    assert client.get("/services/departments/91350100M000100Y43/").status_code == 404


def test_theme_pages(client, catalogue):
    response = client.get("/services/themes/marriage/")
    assert sorted(_names(response)) == ["宁波婚姻登记", "收养登记", "离婚登记", "结婚登记"]
    overview = client.get("/services/themes/").content.decode()
    assert "婚育收养" in overview
    assert "企业开办" in overview


def test_power_list_leaves_out_public_services_and_downloads_as_csv(client, catalogue):
    ServiceItemFactory.create(department=catalogue["departments"]["hangzhou"], name="公共服务事项", item_type="20")
    page = client.get("/services/power-list/")
    names = [item.name for item in page.context["page"].object_list]
    assert "公共服务事项" not in names
    assert len(names) == 5

    download = client.get("/services/power-list/?format=csv&item_type=07")
    text = b"".join(download.streaming_content).decode("utf-8")
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["实施编码", "基本编码", "事项名称"]
    assert [row[2] for row in rows[1:]] == ["公司设立登记"]


def test_facet_counts_are_cached_until_the_catalogue_changes(client, catalogue):
    client.get("/services/")
    _response, queries = get_counting_queries(client, "/services/")
    assert len(queries) == 1
    catalogue_changed()
    _response, queries = get_counting_queries(client, "/services/")
    assert len(queries) > 2


def test_the_guide_says_which_real_name_level_applying_needs(client, catalogue):
    item = catalogue["items"]["company"]
    ServiceItemFactory._meta.model.objects.filter(pk=item.pk).update(min_real_name_level=3)
    body = client.get(f"/en/services/{item.implementation_code}/").content.decode()
    assert "Advanced real-name verification (level 3)" in body


def test_an_item_published_since_shows_in_the_list_and_its_count_at_once(client, catalogue):
    # given: the count and the facets are in the cache
    before = client.get("/services/?audience=person")
    assert before.context["page"].paginator.count == 4
    # when: what publishing does after its commit
    ServiceItemFactory.create(department=catalogue["departments"]["xihu"], name="收养登记证补发")
    catalogue_changed()
    # then
    after = client.get("/services/?audience=person")
    assert after.context["page"].paginator.count == 5
    assert "收养登记证补发" in _names(after)
    assert "5 个事项" in after.content.decode()
    assert {value.value: value.count for value in after.context["facets"]["audience"]}["person"] == 5


def test_the_facet_form_is_rendered_once_per_choice_and_generation(client, catalogue):
    # given
    first = client.get("/services/?audience=person").content.decode()
    # when
    again = client.get("/services/?audience=person").content.decode()
    other = client.get("/services/?audience=enterprise").content.decode()
    # then: the kept form is the same; another choice has its own
    assert again == first
    assert 'value="person" checked' in first
    assert 'value="enterprise" checked' in other
    assert 'value="person" checked' not in other
