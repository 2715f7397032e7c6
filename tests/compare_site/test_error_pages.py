"""Visitors get plain-language error pages, never a stack trace, even with the database down."""

from unittest import mock

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.test import Client

from tests.factories import make_comparison

TRACE_MARKERS = ("Traceback", 'File "', "RuntimeError", "OperationalError", "secret-detail")


def database_down(error=OperationalError):
    """Every query fails as it does when PostgreSQL has gone away."""
    return mock.patch.object(
        connections["default"],
        "cursor",
        side_effect=error("connection to server at 127.0.0.1, port 5432 failed: secret-detail"),
    )


def assert_no_trace(body):
    for marker in TRACE_MARKERS:
        assert marker not in body


@pytest.mark.django_db
def test_unknown_address_gets_the_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "We could not find that page" in page
    assert 'href="/"' in page
    assert "Book a free 30-minute consultation" in page


@pytest.mark.django_db
def test_unpublished_comparison_gets_the_404_page(client):
    comparison = make_comparison(published=False)
    response = client.get(comparison.get_absolute_url())
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


# No django_db mark: the error pages must render without touching the database.
@pytest.mark.urls("tests.compare_site.urls_crashing")
def test_a_crashing_view_gets_the_500_page_without_a_trace():
    response = Client(raise_request_exception=False).get("/crash/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert settings.CONTACT_EMAIL in page
    assert_no_trace(page)


def test_database_down_gets_the_503_page_with_a_contact_address():
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "120"
    page = response.content.decode()
    assert "We are briefly unavailable" in page
    assert f'href="mailto:{settings.CONTACT_EMAIL}"' in page
    assert_no_trace(page)


def test_lost_database_connection_also_gets_the_503_page():
    client = Client(raise_request_exception=False)
    with database_down(InterfaceError):
        response = client.get("/")
    assert response.status_code == 503
    assert "We are briefly unavailable" in response.content.decode()


@pytest.mark.django_db
def test_database_failing_mid_way_on_a_comparison_page_gets_the_503_page():
    comparison = make_comparison(factors=3, statistics=2)
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get(comparison.get_absolute_url())
    assert response.status_code == 503
    assert settings.CONTACT_EMAIL in response.content.decode()


def test_the_contact_address_comes_from_settings(settings):
    settings.CONTACT_EMAIL = "help@example.org"
    client = Client(raise_request_exception=False)
    with database_down():
        page = client.get("/").content.decode()
    assert "mailto:help@example.org" in page
    assert "hello@compare.example" not in page


@pytest.mark.django_db
def test_signed_in_staff_get_the_503_page_too(admin_client):
    # The admin reads the session and the user from the database first.
    admin_client.raise_request_exception = False
    with database_down():
        response = admin_client.get("/admin/")
    assert response.status_code == 503
    assert "We are briefly unavailable" in response.content.decode()


def test_error_pages_use_the_site_stylesheet_and_no_inline_code():
    client = Client(raise_request_exception=False)
    with database_down():
        page = client.get("/").content.decode()
    assert '<link rel="stylesheet" href="/static/css/site.' in page
    assert "<script" not in page
    assert "style=" not in page
