import django.db.models.functions.text
from django.db import migrations, models

TRIGRAM_INDEX = "enquiries_person_search_name_trgm"


def create_trigram_index(apps, schema_editor):
    """PostgreSQL only: SQLite has no trigrams, and its duplicate check falls back to LIKE.
    The extension stays on the way back: other database objects may come to use it."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX {TRIGRAM_INDEX} ON enquiries_person USING gin (search_name gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0004_referrer_types_and_outcomes"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="search_name",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Lower(
                    django.db.models.functions.text.Concat(
                        "first_name", models.Value(" "), "last_name"
                    )
                ),
                help_text="Lower-case full name; trigram-indexed on PostgreSQL for the duplicate check.",
                output_field=models.CharField(max_length=201),
            ),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
