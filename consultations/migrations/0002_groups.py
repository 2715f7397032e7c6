"""The Triage group and its permissions.

This migration once created the Editors group too; the comparisons app owns
that group now (comparisons/migrations/0005 and 0006, which get_or_create it
and so agree with databases where this migration made it).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TRIAGE_MODELS = ["consultationrequest", "preferredwindow", "auditevent", "outgoingemail", "duewarning"]


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrate finishes; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(app_label, models, actions):
        codenames = [f"{action}_{model}" for model in models for action in actions]
        found = list(
            Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
        assert len(found) == len(codenames), "missing permissions"
        return found

    triage, _ = Group.objects.get_or_create(name="Triage")
    triage.permissions.add(
        *permissions("consultations", TRIAGE_MODELS, ["view"]),
        *permissions("consultations", ["consultationrequest"], ["change"]),
        Permission.objects.get(content_type__app_label="consultations", codename="view_report"),
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Triage").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("comparisons", "0002_same_comparison_triggers"),
        ("consultations", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
