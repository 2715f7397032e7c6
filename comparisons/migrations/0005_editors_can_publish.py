"""
The Editors group may publish comparisons.

The group may already exist (on older databases, consultations' 0002 created
it with the comparisons models' add/change/delete/view permissions, which 0006
now gives) or not yet: either way get_or_create it and add
publish_comparison. Permissions are normally created after all migrations, so create
this app's now.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_publish(apps, schema_editor):
    app_config = apps.get_app_config("comparisons")
    # A migration's app config has no models module, which create_permissions
    # takes to mean "no models"; mark it as having some for this call.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(
        Permission.objects.get(content_type__app_label="comparisons", codename="publish_comparison")
    )


def revoke_publish(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for editors in Group.objects.filter(name="Editors"):
        editors.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="comparisons", codename="publish_comparison"
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0004_editorial_workflow"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_publish, revoke_publish)]
