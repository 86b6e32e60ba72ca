from django.db import migrations

INDEX = "enquiry_open_queue"
OPEN_STATES = "('received', 'screening', 'researching', 'awaiting_decision')"


def create_open_queue_index(apps, schema_editor):
    """The triage queue's order over open enquiries only, so its first page (and a filtered
    or later one) reads index order and stops, instead of sorting every open enquiry behind a
    history that only grows. A raw index because Django's cannot say NULLS LAST portably:
    SQLite's index syntax has no NULLS LAST, but DESC already puts its NULLs last."""
    escalated = "escalated_at DESC"
    if schema_editor.connection.vendor == "postgresql":
        escalated += " NULLS LAST"
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON enquiries_enquiry ({escalated}, deadline, id) "
        f"WHERE state IN {OPEN_STATES}"
    )


def drop_open_queue_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0006_sla_events_and_notifications"),
    ]

    operations = [
        migrations.RunPython(create_open_queue_index, drop_open_queue_index),
    ]
