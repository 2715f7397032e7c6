"""
Database triggers: a factor's winner and an assessment's framework must belong
to the factor's own comparison.

A CHECK constraint cannot look at another table, so these rules are triggers,
written once for PostgreSQL and once for SQLite. Note for later migrations: on
SQLite, Django rebuilds a table to alter it, which drops its triggers; a
migration that alters comparisons_factor or comparisons_assessment must run
this one's SQL again (TestWinnerMustBelongToTheComparison in
tests/comparisons/test_models.py would fail).
"""

from django.db import migrations

# (table, column pointing at a participant, how the row reaches its comparison, message)
RULES = [
    (
        "comparisons_factor",
        "winner_id",
        "NEW.comparison_id",
        "The winner of a factor must be one of the frameworks in its comparison.",
    ),
    (
        "comparisons_assessment",
        "participant_id",
        "(SELECT f.comparison_id FROM comparisons_factor f WHERE f.id = NEW.factor_id)",
        "An assessment must be for one of the frameworks in its comparison.",
    ),
]


def violation(column, comparison_of_row):
    return (
        f"NEW.{column} IS NOT NULL AND NOT EXISTS ("
        f"SELECT 1 FROM comparisons_participant p "
        f"WHERE p.id = NEW.{column} AND p.comparison_id = {comparison_of_row})"
    )


def postgresql_sql():
    create, drop = [], []
    for table, column, comparison_of_row, message in RULES:
        name = f"{table}_same_comparison"
        create.append(
            f"""
            CREATE FUNCTION {name}() RETURNS trigger AS $$
            BEGIN
                IF {violation(column, comparison_of_row)} THEN
                    RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {name}();
            """
        )
        drop.append(f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();")
    return create, drop


def sqlite_sql():
    create, drop = [], []
    for table, column, comparison_of_row, message in RULES:
        for event in ("INSERT", "UPDATE"):
            name = f"{table}_same_comparison_{event.lower()}"
            create.append(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                f"WHEN {violation(column, comparison_of_row)} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {name};")
    return create, drop


def sql_for(vendor):
    if vendor == "postgresql":
        return postgresql_sql()
    if vendor == "sqlite":
        return sqlite_sql()
    raise NotImplementedError(f"No same-comparison triggers written for {vendor}.")


def create_triggers(apps, schema_editor):
    create, _ = sql_for(schema_editor.connection.vendor)
    for statement in create:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    _, drop = sql_for(schema_editor.connection.vendor)
    for statement in drop:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("comparisons", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
