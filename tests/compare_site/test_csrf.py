"""State-changing admin forms refuse a POST without the CSRF token."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from comparisons.models import Framework
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def csrf_token(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def test_admin_sign_in_without_the_token_is_refused(csrf_client, editor):
    response = csrf_client.post(
        reverse("admin:login"), {"username": editor.username, "password": PASSWORD}
    )
    assert response.status_code == 403
    assert SESSION_KEY not in csrf_client.session


def test_admin_sign_in_with_the_token_works(csrf_client, editor):
    token = csrf_token(csrf_client.get(reverse("admin:login")))
    response = csrf_client.post(
        reverse("admin:login"),
        {"username": editor.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert SESSION_KEY in csrf_client.session


def test_admin_edit_without_the_token_is_refused(csrf_client, admin_user):
    csrf_client.force_login(admin_user)
    response = csrf_client.post(
        reverse("admin:comparisons_framework_add"), {"name": "JAX", "slug": "jax"}
    )
    assert response.status_code == 403
    assert not Framework.objects.exists()


def test_admin_edit_with_the_token_is_saved(csrf_client, admin_user):
    csrf_client.force_login(admin_user)
    token = csrf_token(csrf_client.get(reverse("admin:comparisons_framework_add")))
    response = csrf_client.post(
        reverse("admin:comparisons_framework_add"),
        {"name": "JAX", "slug": "jax", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert Framework.objects.get().name == "JAX"


def test_sign_out_without_the_token_is_refused(csrf_client, admin_user):
    csrf_client.force_login(admin_user)
    response = csrf_client.post(reverse("admin:logout"))
    assert response.status_code == 403
    assert SESSION_KEY in csrf_client.session
