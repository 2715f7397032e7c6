"""
A staff member's timezone has one home, StaffTimezone; WorkingHours loses its own.

The hours' timezone decided which slots visitors were offered and held, so it
is the value kept: each person with hours gets the timezone most of their
rows were in (alphabetically first on a tie) as their StaffTimezone. A
StaffTimezone set before only labelled times in the admin; where it differed
from the hours' it is replaced. People without hours keep theirs. Going back
writes each person's StaffTimezone (or settings.TIME_ZONE) into their rows.
"""

from collections import Counter

from django.conf import settings
from django.db import migrations


def hours_timezone_to_staff(apps, schema_editor):
    WorkingHours = apps.get_model("consultations", "WorkingHours")
    StaffTimezone = apps.get_model("consultations", "StaffTimezone")
    counts = {}
    for person_id, name in WorkingHours.objects.values_list("person_id", "timezone"):
        counts.setdefault(person_id, Counter())[name] += 1
    for person_id, names in counts.items():
        most = max(names.values())
        chosen = min(name for name, count in names.items() if count == most)
        StaffTimezone.objects.update_or_create(user_id=person_id, defaults={"timezone": chosen})


def staff_timezone_to_hours(apps, schema_editor):
    WorkingHours = apps.get_model("consultations", "WorkingHours")
    StaffTimezone = apps.get_model("consultations", "StaffTimezone")
    WorkingHours.objects.update(timezone=settings.TIME_ZONE)
    for user_id, name in StaffTimezone.objects.values_list("user_id", "timezone"):
        WorkingHours.objects.filter(person_id=user_id).update(timezone=name)


class Migration(migrations.Migration):
    dependencies = [("consultations", "0013_report_week_statistics")]

    operations = [
        migrations.RunPython(hours_timezone_to_staff, staff_timezone_to_hours),
        migrations.RemoveField(model_name="workinghours", name="timezone"),
    ]
