"""Create the demo superuser for `make run`, with a one-time random password printed once.

The demo admin is also a member of the Triage group with an address at the
demo domain, so the first booking in `make run` notifies someone (the console
mail backend prints the notification).
"""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from consultations.services import TRIAGE_GROUP

DEMO_ADMIN_EMAIL = "admin@compare.example"
# As `make run` runs commands, from the project root: printed so it works as printed.
CHANGE_PASSWORD_COMMAND = "DJANGO_DEBUG=1 .venv/bin/python manage.py changepassword {username}"  # noqa: S105


class Command(BaseCommand):
    help = "Create the 'admin' superuser with a random password, unless it exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        User = get_user_model()
        change_password = CHANGE_PASSWORD_COMMAND.format(username=username)
        admin = User.objects.filter(username=username).first()
        if admin is not None:
            self.receive_triage_notifications(admin)
            self.stdout.write(
                f"Admin user '{username}' exists; its password was printed when it was "
                f"created. To set a new one: {change_password}"
            )
            return
        password = secrets.token_urlsafe(16)
        admin = User.objects.create_superuser(
            username=username, email=DEMO_ADMIN_EMAIL, password=password
        )
        self.receive_triage_notifications(admin)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created admin user '{username}' with the one-time password: {password}\n"
                f"It is shown only now. Change it with: {change_password}"
            )
        )

    def receive_triage_notifications(self, admin):
        """New-request notifications go to Triage members with an address (services.py)."""
        if not admin.email:
            admin.email = DEMO_ADMIN_EMAIL
            admin.save(update_fields=["email"])
        admin.groups.add(Group.objects.get(name=TRIAGE_GROUP))
