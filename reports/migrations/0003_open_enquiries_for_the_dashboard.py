from django.db import migrations

# The dashboard's figures of open enquiries (the backlog by RAG and age, at risk and breached,
# escalations and who holds what) read only these columns of only the open enquiries: an
# index-only scan of some 20,000 entries at a million enquiries, where each of its three
# queries visited every open enquiry's row (15-25 ms each, bench/queue.py's data).
# An enquiry is open exactly when it has no decision (the check constraint
# enquiry_decided_state_has_decision_time), which the backlog asks of every enquiry.
CREATE = """
CREATE INDEX enquiry_open_dashboard ON enquiries_enquiry (assignee_id, rating)
    INCLUDE (id, state, received_at, at_risk_from, breached_from, escalated_at,
        escalation_acknowledged_at)
    WHERE decided_at IS NULL
"""
DROP = "DROP INDEX IF EXISTS enquiry_open_dashboard"


def create_index(apps, schema_editor):
    """PostgreSQL only: SQLite has no INCLUDE, and the demo's few hundred need no index."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0025_open_enquiries_by_filter"),
        ("reports", "0002_decisions_by_day"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
