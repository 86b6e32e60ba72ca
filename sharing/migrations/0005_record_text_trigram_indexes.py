"""Trigram indexes for the record search (`ILIKE '%word%'` on summary and detail).

PostgreSQL only, like the person name index (enquiries 0005): SQLite searches by scanning.
"""

from django.db import migrations

INDEXES = {
    "sharing_record_summary_trgm": "summary",
    "sharing_record_detail_trgm": "detail",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON sharing_informationrecord USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0004_append_only_logs"),
        ("enquiries", "0005_person_search_name"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
