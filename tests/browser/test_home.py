"""The home page in a real browser: Chinese first, English one link away, usable on a phone."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_renders_in_chinese_and_switches_to_english(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == "政务服务，一网通办"
    assert page.title() == "一网通办"

    page.get_by_role("link", name="English").click()

    page.wait_for_url("**/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Every government service, in one place"

    page.get_by_role("link", name="简体中文").click()
    page.wait_for_url(lambda url: url.endswith("/") and "/en/" not in url)
    assert page.get_by_role("heading", level=1).inner_text() == "政务服务，一网通办"


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "跳到主要内容"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_home_fits_a_375_pixel_phone_without_sideways_scrolling(page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    search = page.get_by_label("搜索服务事项")
    assert search.is_visible()
    box = search.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 375


def test_home_works_without_javascript(open_context):
    page = open_context(java_script_enabled=False).new_page()
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "政务服务，一网通办"
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Every government service, in one place"
