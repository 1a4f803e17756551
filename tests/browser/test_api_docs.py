"""The API docs page (/api/docs/) in a real browser: Swagger UI draws the schema and the CSP refuses nothing."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_without_a_content_security_policy_violation(page):
    console = []
    page.on("console", lambda message: console.append(message.text))
    violations = []
    page.expose_binding("reportViolation", lambda source, text: violations.append(text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " (event) => window.reportViolation(event.violatedDirective + ' ' + event.blockedURI));"
    )

    response = page.goto("/api/docs/")

    assert response.status == 200
    assert "style-src 'self'" in response.headers["content-security-policy"]
    page.locator(".swagger-ui .info .title").wait_for()
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("一网通办 API")
    assert page.locator(".opblock-summary-path", has_text="/api/v1/applications/").count() >= 1
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # the page style, from its file
    assert violations == []
    assert [text for text in console if "Content Security Policy" in text] == []
