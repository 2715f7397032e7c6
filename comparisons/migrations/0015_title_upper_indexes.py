"""
An index on UPPER(title_<language>) for each language, for the comparison a
visitor names by its title in any case (ComparisonQuerySet.titled: the booking
form). On PostgreSQL the table is analysed at once: without statistics on the
new expressions the planner keeps reading every published comparison instead.
"""

import django.db.models.functions.text
from django.db import migrations, models


def analyse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE comparisons_comparison")


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0014_search_rum"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="comparison",
            index=models.Index(
                django.db.models.functions.text.Upper("title_en"),
                name="comparisons_title_en_upper_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="comparison",
            index=models.Index(
                django.db.models.functions.text.Upper("title_de"),
                name="comparisons_title_de_upper_idx",
            ),
        ),
        migrations.RunPython(analyse, migrations.RunPython.noop, elidable=True),
    ]
