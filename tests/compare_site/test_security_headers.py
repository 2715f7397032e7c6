"""Production settings pass the deploy check; every kind of page sends the security headers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD, make_comparison

PROJECT_ROOT = Path(settings.BASE_DIR)


def test_production_settings_pass_the_deploy_check():
    env = {
        key: value
        for key, value in os.environ.items()
        # The test run's own relaxations must not leak into "production".
        if key not in {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "DJANGO_DEBUG"}
    }
    env.update(
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="compare.example,www.compare.example",
        # Production sends mail through SMTP; the console backend fails the check.
        EMAIL_HOST="smtp.compare.example",
    )
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter.
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output


def test_debug_off_refuses_the_development_key():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"}
    env["DJANGO_DEBUG"] = "0"
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter.
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def csp_directives(response):
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
class TestSecurityHeaders:
    @pytest.fixture(autouse=True)
    def https_redirect_on(self, settings):
        settings.SECURE_SSL_REDIRECT = True

    @pytest.fixture
    def pages(self):
        comparison = make_comparison(factors=2, statistics=1)
        return {
            "home": reverse("comparisons:home"),
            "comparison": comparison.get_absolute_url(),
            "booking": reverse("consultations:book"),
            "admin login": reverse("admin:login"),
        }

    def test_every_page_sends_the_security_headers(self, client, pages):
        for name, url in pages.items():
            response = client.get(url, secure=True)
            assert response.status_code == 200, name
            assert response["Strict-Transport-Security"] == (
                "max-age=31536000; includeSubDomains; preload"
            ), name
            assert response["X-Content-Type-Options"] == "nosniff", name
            assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", name
            assert response["Cross-Origin-Opener-Policy"] == "same-origin", name
            assert response["X-Frame-Options"] == "DENY", name

    def test_every_page_has_a_csp_without_unsafe_scripts(self, client, pages):
        for name, url in pages.items():
            directives = csp_directives(client.get(url, secure=True))
            assert directives["default-src"] == ["'self'"], name
            assert directives["script-src"] == ["'self'"], name
            assert directives["object-src"] == ["'none'"], name
            assert directives["frame-ancestors"] == ["'none'"], name
            assert directives["base-uri"] == ["'self'"], name
            for source in directives["script-src"]:
                assert "unsafe" not in source, name

    def test_pages_served_from_the_page_cache_keep_the_headers(
        self, client, pages, django_assert_num_queries
    ):
        url = pages["comparison"]
        first = client.get(url, secure=True)
        with django_assert_num_queries(0):  # served from the cache
            again = client.get(url, secure=True)
        assert again["ETag"] == first["ETag"]
        for name in (
            "Strict-Transport-Security",
            "Content-Security-Policy",
            "X-Frame-Options",
            "X-Content-Type-Options",
            "Referrer-Policy",
            "Cross-Origin-Opener-Policy",
        ):
            assert again[name] == first[name], name

    def test_plain_http_is_redirected_to_https(self, client, pages):
        for name, url in pages.items():
            response = client.get(url)
            assert response.status_code == 301, name
            assert response["Location"] == f"https://testserver{url}", name

    def test_csrf_cookie_is_secure(self, client, pages):
        response = client.get(pages["admin login"], secure=True)
        cookie = response.cookies[settings.CSRF_COOKIE_NAME]
        assert cookie["secure"] is True
        assert cookie["samesite"] == "Lax"

    def test_session_cookie_is_secure_and_http_only(self, client, pages, editor):
        response = client.post(
            pages["admin login"],
            {"username": editor.username, "password": PASSWORD, "next": "/admin/"},
            secure=True,
        )
        assert response.status_code == 302
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
