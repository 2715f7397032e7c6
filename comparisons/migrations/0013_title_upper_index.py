"""
An index on UPPER(title), for the comparison a visitor names by its title in any
case (ComparisonQuerySet.titled: the booking form). On PostgreSQL the table is
analysed at once: without statistics on the new expression the planner keeps
reading every published comparison instead.
"""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


def analyse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE comparisons_comparison")


class Migration(migrations.Migration):

    dependencies = [
        ('comparisons', '0012_cache_purge'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='comparison',
            index=models.Index(django.db.models.functions.text.Upper('title'), name='comparisons_title_upper_idx'),
        ),
        migrations.RunPython(analyse, migrations.RunPython.noop, elidable=True),
    ]
