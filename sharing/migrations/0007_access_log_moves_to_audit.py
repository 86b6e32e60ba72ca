"""The access log moves to the `audit` app (audit migration 0001): the model leaves
this app's state only; its table, rows, trigger and grants stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0006_access_log_in_full"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AccessLogEntry")], database_operations=[]
        ),
    ]
