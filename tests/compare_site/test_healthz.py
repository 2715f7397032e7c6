"""/healthz tells a load balancer whether this instance can reach its database."""

import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import OperationalError, connections
from django.test import Client

from tests.support.faults import fail_open_cache


@pytest.mark.django_db
def test_healthy_instance_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_health_is_never_cached(client):
    response = client.get("/healthz")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_checks_need_no_sign_in_and_no_https_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/livez").status_code == 200
    assert Client().get("/").status_code == 301


def test_database_down_answers_503_unavailable():
    with mock.patch.object(
        connections["default"], "cursor", side_effect=OperationalError("connection refused")
    ):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "cache": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_cache_down_is_reported_but_keeps_the_instance_in_service(cache_down):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "degraded"}


@pytest.mark.django_db
def test_a_hanging_cache_is_reported_within_its_timeout(settings, hanging_socket):
    settings.CACHES = fail_open_cache(f"redis://127.0.0.1:{hanging_socket.port}/0")
    started = time.monotonic()
    response = Client().get("/healthz")
    elapsed = time.monotonic() - started
    assert response.json() == {"database": "ok", "cache": "degraded"}
    # One 100 ms socket timeout, then the cache is skipped; generous for a shared machine.
    assert elapsed < 1


@pytest.mark.django_db
def test_a_cache_backend_that_raises_is_reported_the_same_way():
    with mock.patch.object(cache, "set", side_effect=ConnectionError("redis is down")):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "degraded"}
