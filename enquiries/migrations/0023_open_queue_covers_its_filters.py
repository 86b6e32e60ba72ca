from django.db import migrations

INDEX = "enquiry_open_queue"
OPEN_STATES = "('received', 'screening', 'researching', 'awaiting_decision')"
# What the queue's filters and its name search read of each open enquiry (selectors.narrowed).
COVERED = (
    "state",
    "rating",
    "assignee_id",
    "at_risk_from",
    "breached_from",
    "escalation_acknowledged_at",
    "decided_on_time",
    "reference",
)


def open_queue_index(schema_editor, *, covering: bool) -> None:
    escalated = "escalated_at DESC"
    if schema_editor.connection.vendor == "postgresql":
        escalated += " NULLS LAST"
    include = ""
    if covering and schema_editor.connection.vendor == "postgresql":
        include = f" INCLUDE ({', '.join(COVERED)})"
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON enquiries_enquiry ({escalated}, deadline, id){include} "
        f"WHERE state IN {OPEN_STATES}"
    )


def cover_the_filters(apps, schema_editor):
    """The queue's index carries the columns its filters test (PostgreSQL's INCLUDE), so a
    filtered page, its count and a page deep in the queue are read from the index alone,
    without a visit to each open enquiry's row. It holds open enquiries only, so it stays
    small however long the history."""
    open_queue_index(schema_editor, covering=True)


def uncover_the_filters(apps, schema_editor):
    open_queue_index(schema_editor, covering=False)


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0022_outcome_and_referrer_type_position"),
    ]

    operations = [
        migrations.RunPython(cover_the_filters, uncover_the_filters),
    ]
