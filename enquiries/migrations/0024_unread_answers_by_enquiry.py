from django.db import migrations

INDEX = "notification_unread_answer"


def create_index(apps, schema_editor):
    """The triage queue's "New information" tag: a page's fifty enquiries each look up
    whether its reader has an agency's answer unread, rather than PostgreSQL hashing every
    unread answer the reader has (selectors.queue_rows)."""
    schema_editor.execute(
        f"CREATE INDEX {INDEX} ON enquiries_notification (enquiry_id, recipient_id) "
        "WHERE read_at IS NULL AND kind = 'information_answered'"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0023_open_queue_covers_its_filters"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
