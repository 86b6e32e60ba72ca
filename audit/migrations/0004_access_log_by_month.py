"""The access log becomes a table a month (audit.partitions): its rows, ids, indexes, foreign
keys, append-only trigger and grants move to a table PARTITION BY RANGE ("at"), with a
partition for each month that has entries, this month and the next three, and a DEFAULT
partition; and the function beat calls to make the months ahead. Reversible: back to one
plain table, everything else as it was. PostgreSQL only: SQLite keeps one table."""

from django.db import migrations

from audit.partitions import one_table_again, partition_by_month


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_record_corrections_in_the_access_log"),
    ]

    operations = [
        migrations.RunPython(partition_by_month, one_table_again, elidable=False),
    ]
