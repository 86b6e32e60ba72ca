"""Indexes for the pages that read records at a million enquiries.

`information_record_newest` lets the record search read the newest records in order and stop
at a page of hits (`sharing.selectors.search_records`); `information_record_awaiting_release`
finds an agency's records awaiting its release decision (the inbox) without reading every
record the agency gave. Plain SQL, as the trigram indexes (0005), so the model's state is
unchanged; both databases take them.

On PostgreSQL, trigram indexes on UPPER(summary) and UPPER(detail): the search's
`icontains` compares UPPER(column) LIKE UPPER(words), which 0005's indexes on the columns
themselves cannot answer, so a word in few records read every record (2-4 s at three million).
"""

from django.db import migrations

TRIGRAM_INDEXES = {
    "sharing_record_summary_upper_trgm": "summary",
    "sharing_record_detail_upper_trgm": "detail",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON sharing_informationrecord "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0011_request_due_time_versions"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX information_record_newest "
            "ON sharing_informationrecord (recorded_at DESC, id DESC)",
            "DROP INDEX information_record_newest",
        ),
        migrations.RunSQL(
            "CREATE INDEX information_record_awaiting_release "
            "ON sharing_informationrecord (agency_id, recorded_at, id) "
            "WHERE release_status = 'requested'",
            "DROP INDEX information_record_awaiting_release",
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
