"""The account log moves to the `audit` app (audit migration 0001): the model leaves
this app's state only; its table, rows, trigger and grants stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0008_password_and_two_factor_resets"),
        # Sharing's migrations read this model from the state to guard its table.
        ("sharing", "0006_access_log_in_full"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AccountEvent")], database_operations=[]
        ),
    ]
