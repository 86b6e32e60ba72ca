"""A PostgreSQL function that takes the access log writers' lock and returns the newest
entry's hash (core.append_only.last_hash): one call where a write took two queries, and a
plan kept for the session rather than made across the monthly tables each time. SQLite has
no such function and needs none. Reversible."""

from django.db import migrations

from core.append_only import forget_chain_heads

FUNCTION = """
CREATE OR REPLACE FUNCTION access_log_head(writers_lock bigint) RETURNS varchar
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(writers_lock);
    RETURN (SELECT hash FROM sharing_accesslogentry ORDER BY id DESC LIMIT 1);
END
$$
"""


def create_head(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        forget_chain_heads(schema_editor.connection)


def drop_head(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS access_log_head(bigint)")
        forget_chain_heads(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_access_log_by_agency_and_action")]

    operations = [migrations.RunPython(create_head, drop_head, elidable=False)]
