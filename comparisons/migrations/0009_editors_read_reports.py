"""
The Editors group may view and resolve (change) readers' accuracy reports.

Only Editors: the Triage group answers consultations and never sees the queue.
Nobody gets add or delete: reports come from readers, and a resolved one stays
as the record of what was decided. Written like 0006_editors_group: it makes
the new model's permissions first, and running it twice changes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_accuracyreport", "change_accuracyreport"]


def report_permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    found = list(
        Permission.objects.filter(content_type__app_label="comparisons", codename__in=CODENAMES)
    )
    assert len(found) == len(CODENAMES), "missing permissions"
    return found


def grant(apps, schema_editor):
    app_config = apps.get_app_config("comparisons")
    # As in 0006: a migration's app config has no models module, which
    # create_permissions takes to mean "no models".
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    editors, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Editors")
    editors.permissions.add(*report_permissions(apps))


def revoke(apps, schema_editor):
    for editors in apps.get_model("auth", "Group").objects.filter(name="Editors"):
        editors.permissions.remove(*report_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [("comparisons", "0008_accuracy_reports")]

    operations = [migrations.RunPython(grant, revoke)]
