from django.db import migrations

OPEN_STATES = "('received', 'screening', 'researching', 'awaiting_decision')"
# name: columns
INDEXES = {
    "enquiry_open_by_breach": "breached_from, at_risk_from",
    "enquiry_open_by_assignee": "assignee_id",
    "enquiry_open_by_rating": "rating",
}


def create_indexes(apps, schema_editor):
    """The triage queue's RAG, at-risk, breached, "only mine", assignee and unassigned filters
    are counted from these, open enquiries only, without a visit to each open enquiry's row:
    counted through `enquiry_open_timing_version`, the at-risk count of 20,200 open enquiries
    took 7-20 ms (bench/queue.py at 1,000,000)."""
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON enquiries_enquiry ({columns}) WHERE state IN {OPEN_STATES}"
        )


def drop_indexes(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0024_unread_answers_by_enquiry"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
