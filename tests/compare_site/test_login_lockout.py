"""The admin sign-in resists password guessing without letting one attacker lock everyone out."""

from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

ATTACKER_IP = "203.0.113.7"
OTHER_IP = "198.51.100.23"


def sign_in(client, username, password, ip=ATTACKER_IP):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


def is_signed_in(client):
    return SESSION_KEY in client.session


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Each sign-in hashes a password; the slow production hasher adds nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def guess_until_locked(client, username):
    """Wrong passwords up to the limit; returns the responses."""
    return [
        sign_in(client, username, f"wrong-guess-{n}") for n in range(settings.AXES_FAILURE_LIMIT)
    ]


def test_limit_and_cool_off_have_safe_defaults():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timezone.timedelta(minutes=30)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_wrong_passwords_below_the_limit_show_the_login_form(client, editor):
    responses = [sign_in(client, editor.username, f"wrong-{n}") for n in range(4)]
    for response in responses:
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()


def test_the_sixth_wrong_attempt_is_locked_out(client, editor):
    responses = guess_until_locked(client, editor.username)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    response = sign_in(client, editor.username, "wrong-guess-6")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in paused after too many failed attempts" in page
    assert "30 minutes" in page
    assert settings.CONTACT_EMAIL in page
    assert not is_signed_in(client)


def test_the_right_password_is_refused_while_locked(client, editor):
    guess_until_locked(client, editor.username)
    response = sign_in(client, editor.username, PASSWORD)
    assert response.status_code == 429
    assert not is_signed_in(client)


def test_another_user_from_the_same_address_still_gets_in(client, editor, triager):
    guess_until_locked(client, editor.username)
    response = sign_in(client, triager.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert is_signed_in(client)


def test_the_same_user_from_another_address_still_gets_in(client, editor):
    guess_until_locked(client, editor.username)
    response = sign_in(client, editor.username, PASSWORD, ip=OTHER_IP)
    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_user_gets_in_again_after_the_cool_off(client, editor):
    guess_until_locked(client, editor.username)
    # Let 30 minutes and a second pass.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timezone.timedelta(seconds=1)
    )
    response = sign_in(client, editor.username, PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(client)


def test_guessing_many_usernames_from_one_address_locks_none_out_elsewhere(client):
    users = [make_user(f"staff{n}", password=PASSWORD, is_staff=True) for n in range(3)]
    for user in users:
        guess_until_locked(client, user.username)
        assert sign_in(client, user.username, PASSWORD).status_code == 429
    for user in users:
        assert sign_in(Client(), user.username, PASSWORD, ip=OTHER_IP).status_code == 302


def test_behind_a_proxy_the_lockout_keys_on_the_visitor_address(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    def via_proxy(password, visitor_ip):
        return client.post(
            reverse("admin:login"),
            {"username": editor.username, "password": password},
            REMOTE_ADDR="10.0.0.2",
            # The visitor may send anything on the left; the proxy appends the real address.
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, {visitor_ip}",
        )

    for n in range(settings.AXES_FAILURE_LIMIT):
        via_proxy(f"wrong-{n}", ATTACKER_IP)
    assert via_proxy(PASSWORD, ATTACKER_IP).status_code == 429
    assert via_proxy(PASSWORD, OTHER_IP).status_code == 302


class TestPasswordValidation:
    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("Xk9#mQ2$vL7", "This password is too short. It must contain at least 12 characters."),
            ("password1234", "This password is too common."),
            ("839201746583920", "This password is entirely numeric."),
            ("maria.editor2", "The password is too similar to the username."),
        ],
    )
    def test_weak_passwords_are_refused(self, password, message):
        user = make_user("maria.editor", email="maria@compare.example")
        with pytest.raises(ValidationError) as refused:
            validate_password(password, user)
        assert message in refused.value.messages

    def test_a_long_uncommon_passphrase_is_accepted(self):
        user = make_user("maria.editor")
        assert validate_password("copper kettle under the north bridge", user) is None

    def test_the_admin_refuses_a_weak_new_password(self, admin_client):
        user = make_user("maria.editor")
        response = admin_client.post(
            reverse("admin:auth_user_password_change", args=[user.pk]),
            {"password1": "password1234", "password2": "password1234"},
        )
        assert response.status_code == 200
        assert "This password is too common." in response.content.decode()
        user.refresh_from_db()
        assert user.check_password("correct-horse-battery-staple")


def test_an_administrator_can_lift_a_lockout_at_once(client, editor):
    guess_until_locked(client, editor.username)
    call_command("axes_reset_username", editor.username, stdout=StringIO())
    assert sign_in(client, editor.username, PASSWORD).status_code == 302
