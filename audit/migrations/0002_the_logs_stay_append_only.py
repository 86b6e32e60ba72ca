"""This app now owns the logs' append-only guard (audit.protection). It was first installed by
sharing migration 0004; here it is asserted again, as this app defines it, on every log table.
Idempotent, so a database that has it already is unchanged; unapplying leaves it in place,
since sharing's migration still wants it."""

from django.db import migrations

from audit.protection import log_tables, refuse_changes_sql


def refuse_changes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in refuse_changes_sql(log_tables(apps)):
        schema_editor.execute(statement, None)  # no parameters: the % signs are plpgsql's


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_the_logs_move_here"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        migrations.RunPython(refuse_changes, migrations.RunPython.noop, elidable=False),
    ]
