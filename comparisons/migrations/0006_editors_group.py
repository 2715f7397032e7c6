"""
The Editors group may add, change, delete and view the comparisons models.

This app owns the Editors group. Until now consultations' 0002_groups created
it with these permissions; that migration now makes only its own Triage group.
On a database where it already ran, get_or_create and permissions.add here
change nothing; on a new one, this migration gives the group what that one
did. 0005 adds publish_comparison; together they leave the group as before.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_MODELS = ["framework", "comparison", "participant", "factor", "assessment", "statistic"]
ACTIONS = ["add", "change", "delete", "view"]


def editor_permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model in EDITOR_MODELS for action in ACTIONS]
    found = list(
        Permission.objects.filter(content_type__app_label="comparisons", codename__in=codenames)
    )
    assert len(found) == len(codenames), "missing permissions"
    return found


def grant_content(apps, schema_editor):
    app_config = apps.get_app_config("comparisons")
    # Permissions are normally created after all migrations, and a migration's
    # app config has no models module, which create_permissions takes to mean
    # "no models"; mark it as having some for this call.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    editors, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Editors")
    editors.permissions.add(*editor_permissions(apps))


def revoke_content(apps, schema_editor):
    for editors in apps.get_model("auth", "Group").objects.filter(name="Editors"):
        editors.permissions.remove(*editor_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0005_editors_can_publish"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_content, revoke_content)]
