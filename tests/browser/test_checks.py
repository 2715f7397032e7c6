"""The checkers themselves find problems, so a passing page check means something."""

import pytest

from .checks import axe_violations, html_errors

pytestmark = pytest.mark.browser

BROKEN_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Broken</title></head>
<body><main><p id="twice">One</p><p id="twice">Two</p>
<form><input type="email" name="email"></form></main></body></html>"""


def test_axe_reports_a_field_without_a_label(open_page):
    page = open_page(bypass_csp=True)
    page.set_content(BROKEN_PAGE)

    violations = {violation["id"] for violation in axe_violations(page)}

    assert "label" in violations


def test_html_checker_reports_a_duplicate_id(browser_tools):
    errors = html_errors(BROKEN_PAGE)

    assert any("Duplicate ID" in error for error in errors), errors


def test_pages_record_what_the_content_security_policy_refuses(open_page):
    page = open_page()
    page.route(
        "http://compare.test/",
        lambda route: route.fulfill(
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'self'"},
            body='<!DOCTYPE html><title>Inline</title><p style="color: red">Red</p>',
        ),
    )

    page.goto("http://compare.test/")

    assert any("style-src" in error for error in page.csp_errors), page.csp_errors
