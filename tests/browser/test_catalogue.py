"""A citizen finds 结婚登记 in the demo catalogue by browsing and by searching, and opens its guide."""

import pytest

from demo.catalogue import seed_catalogue
from services.search import reindex

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
