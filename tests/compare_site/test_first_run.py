"""What a newcomer meets on a first `make run`: every printed command works as
printed, links follow the port served, the demo admin hears of bookings, and
a refused `next=` lands somewhere real."""

import os
import re
import shlex
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from consultations.models import OutgoingEmail
from tests.consultations.helpers import booking_data
from tests.factories import make_user
from tests.support.faults import manage

pytestmark = pytest.mark.django_db

ROOT = settings.BASE_DIR


def run_settings(**env):
    """Read SITE_URL as a fresh process started with ``env`` sees it."""
    environment = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")}
    environment.update(env, DJANGO_DEBUG="1", DJANGO_SETTINGS_MODULE="compare_site.settings")
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SITE_URL)"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


class TestSiteUrl:
    def test_follows_the_port_being_served(self):
        assert run_settings(PORT="8080") == "http://127.0.0.1:8080"

    def test_defaults_to_port_8000(self):
        assert run_settings() == "http://127.0.0.1:8000"

    def test_an_explicit_site_url_wins(self):
        assert run_settings(PORT="8080", SITE_URL="https://compare.example/") == (
            "https://compare.example"
        )

    def test_make_exports_the_port_to_what_it_runs(self):
        makefile = (ROOT / "Makefile").read_text()
        assert re.search(r"^export PORT$", makefile, flags=re.M)


class TestDemoAdmin:
    def test_the_printed_change_password_command_works_as_printed(self, tmp_path):
        database_url = f"sqlite:///{tmp_path / 'first-run.sqlite3'}"
        environment = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "1"}

        manage(environment, "migrate", "--noinput")
        created = manage(environment, "create_demo_admin")
        again = manage(environment, "create_demo_admin")
        printed = {
            re.search(r"Change it with: (.+)", created).group(1).strip(),
            re.search(r"To set a new one: (.+)", again).group(1).strip(),
        }
        assert len(printed) == 1
        command = printed.pop()
        # Exactly as a newcomer pastes it into a shell at the project root; the
        # environment carries only the test's database on top of theirs.
        new_password = "a-fresh-demo-passphrase-2026"
        # The point is to run the printed line as a shell would.
        result = subprocess.run(  # noqa: S602
            command,
            shell=True,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url},
            input=f"{new_password}\n{new_password}\n",
            capture_output=True,
            text=True,
            start_new_session=True,  # no terminal: getpass reads the answers from stdin
        )
        assert result.returncode == 0, result.stderr
        assert "Password changed successfully" in result.stdout
        assert shlex.split(command)[0] == "DJANGO_DEBUG=1"

    def test_the_first_booking_notifies_the_demo_admin(self, client, settings):
        settings.CONSULTATION_TRIAGE_EMAIL = ""
        call_command("create_demo_admin", stdout=StringIO())
        admin = get_user_model().objects.get(username="admin")
        response = client.post(reverse("consultations:book"), booking_data())
        assert response.status_code == 302
        assert admin.email == "admin@compare.example"
        assert OutgoingEmail.objects.filter(to=admin.email).count() == 1

    def test_an_existing_demo_admin_without_an_address_gets_one(self):
        make_user("admin", is_staff=True, is_superuser=True, email="")
        call_command("create_demo_admin", stdout=StringIO())
        admin = get_user_model().objects.get(username="admin")
        assert admin.email
        assert admin.groups.filter(name="Triage").exists()


class TestSignInRedirect:
    @pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", ""])
    def test_a_refused_next_lands_on_the_admin_index(self, client, next_url):
        make_user("eddie", password="a-long-editor-passphrase", is_staff=True)
        response = client.post(
            reverse("admin:login"),
            {"username": "eddie", "password": "a-long-editor-passphrase", "next": next_url},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:index")
        assert client.get(response["Location"]).status_code == 200
