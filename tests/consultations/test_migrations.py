"""Migration 0014 moves the staff member's timezone from their WorkingHours rows to
their one StaffTimezone, keeping the timezone their hours (so their slots) were in."""

from datetime import time

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("consultations", "0013_report_week_statistics")]
AFTER = [("consultations", "0014_working_hours_timezone_from_staff_timezone")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_each_persons_hours_timezone_becomes_their_own():
    apps = migrate(BEFORE)
    User = apps.get_model("auth", "User")
    WorkingHours = apps.get_model("consultations", "WorkingHours")
    StaffTimezone = apps.get_model("consultations", "StaffTimezone")
    london, tokyo, plain = (User.objects.create(username=n) for n in ("lon", "tok", "plain"))
    for weekday, name in enumerate(["Europe/London", "Europe/London", "America/New_York"]):
        WorkingHours.objects.create(
            person=london, weekday=weekday, starts=time(9), ends=time(17), timezone=name
        )
    WorkingHours.objects.create(
        person=tokyo, weekday=0, starts=time(9), ends=time(17), timezone="Asia/Tokyo"
    )
    # Tokyo's own timezone labelled the admin's times differently; plain has no hours.
    StaffTimezone.objects.create(user=tokyo, timezone="Europe/Berlin")
    StaffTimezone.objects.create(user=plain, timezone="Europe/Paris")

    try:
        apps = migrate(AFTER)
        names = dict(
            apps.get_model("consultations", "StaffTimezone").objects.values_list(
                "user__username", "timezone"
            )
        )
        assert names == {"lon": "Europe/London", "tok": "Asia/Tokyo", "plain": "Europe/Paris"}

        apps = migrate(BEFORE)
        rows = apps.get_model("consultations", "WorkingHours").objects.values_list(
            "person__username", "timezone"
        )
        assert sorted(set(rows)) == [("lon", "Europe/London"), ("tok", "Asia/Tokyo")]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
