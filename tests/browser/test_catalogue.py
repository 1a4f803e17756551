"""A citizen finds 结婚登记 in the demo catalogue by browsing and by searching, and opens its guide."""

import pytest

from demo.catalogue import seed_catalogue
from demo.catalogue_data.regions import XIHU_CODE
from services.models import ServiceItem
from services.search import reindex
from tests.datahub.builders import make_wang_household
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_catalogue():
    seed_catalogue()
    reindex()


def test_find_marriage_registration_by_browsing_individuals_then_life_event(page, demo_catalogue):
    page.goto("/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="个人办事").click()
    assert page.get_by_role("heading", level=1).inner_text() == "个人办事"

    theme = page.locator("#facet-theme option", has_text="婚育收养").get_attribute("value")
    page.select_option("#facet-theme", theme)
    page.get_by_role("button", name="筛选").click()

    page.get_by_role("link", name="结婚登记", exact=True).first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "结婚登记"
    assert page.get_by_role("heading", name="申请材料").is_visible()
    assert "/services/" in page.url


def test_find_marriage_registration_by_searching_from_the_home_page(page, demo_catalogue):
    page.goto("/")
    page.get_by_label("搜索服务事项").fill("结婚")
    page.get_by_role("button", name="搜索").click()

    results = page.locator(".item-name a")
    assert results.first.inner_text() == "结婚登记"
    results.first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "结婚登记"


def test_a_homophone_slip_still_finds_the_service(page, demo_catalogue):
    page.goto("/search/?q=结昏登记")
    assert page.locator(".item-name a").first.inner_text() == "结婚登记"


def test_a_signed_in_citizen_of_xihu_searching_marriage_lands_on_xihus_marriage_registration(
    page, demo_catalogue, citizen
):
    # given: 王小明, 高级实名, whose household the population registry places in 西湖区
    make_wang_household()
    xihu_marriage = ServiceItem.objects.published().get(name="结婚登记", department__region__code=XIHU_CODE)
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(citizen.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    # when: he searches from the home page without choosing a region
    page.goto("/")
    page.get_by_label("搜索服务事项").fill("结婚")
    page.get_by_role("button", name="搜索").click()

    # then: one 结婚登记, his district's, with the other districts a link away
    assert page.get_by_label("地区").input_value() == XIHU_CODE
    assert "这是您户籍所在地" in page.get_by_role("status").first.inner_text()
    marriage = page.locator(".item", has=page.get_by_role("link", name="结婚登记", exact=True))
    assert marriage.count() == 1
    assert "杭州市西湖区" in marriage.locator(".item-meta").inner_text()
    marriage.get_by_role("link", name="结婚登记", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "结婚登记"
    assert page.url.endswith(f"/services/{xihu_marriage.implementation_code}/")


def test_a_place_in_the_query_searches_that_place_and_every_region_is_one_link_away(page, demo_catalogue):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/search/?q=结婚 西湖")
    marriage = page.locator(".item", has=page.get_by_role("link", name="结婚登记", exact=True))
    assert "杭州市西湖区" in marriage.locator(".item-meta").inner_text()
    assert page.get_by_label("地区").input_value() == XIHU_CODE
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # the region form fits a phone

    page.get_by_role("link", name="改为显示全部地区").click()
    marriage = page.locator(".item", has=page.get_by_role("link", name="结婚登记", exact=True))
    assert marriage.count() == 1  # one row for every district that registers marriages
    marriage.locator(".item-others a").click()
    every_district = ServiceItem.objects.published().filter(name="结婚登记").count()
    assert every_district > 20
    assert page.locator("#results-title").inner_text() == f"{every_district} 个事项"
