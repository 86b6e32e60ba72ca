"""The access log in full (DPA 2018 s.62): role, address, request id, person, account and
search terms on every entry, and each entry hash-chained to the one before. Entries already
written are chained here, in id order, with the append-only trigger set aside for the while
(the migration runs as the tables' owner)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from core.append_only import chain

CHAINED_FIELDS = (
    "at",
    "user_id",
    "agency_id",
    "role",
    "action",
    "channel",
    "record_id",
    "enquiry_id",
    "person_id",
    "account_id",
    "reason",
    "terms",
    "address",
    "request_id",
)
TABLE = "sharing_accesslogentry"


def chain_existing(apps, schema_editor) -> None:
    Entry = apps.get_model("sharing", "AccessLogEntry")
    Entry.chained_fields = CHAINED_FIELDS
    if not Entry.objects.exists():
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER append_only")
    previous = ""
    batch = []
    for row in Entry.objects.order_by("pk").values("pk", *CHAINED_FIELDS).iterator(5000):
        batch.append(row)
        if len(batch) == 5000:
            previous = _store(Entry, batch, previous)
            batch = []
    _store(Entry, batch, previous)
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER append_only")


def _store(Entry, rows: list[dict], previous: str) -> str:
    previous = chain(Entry, rows, previous=previous)
    for row in rows:
        Entry.objects.filter(pk=row["pk"]).update(
            previous_hash=row["previous_hash"], hash=row["hash"]
        )
    return previous


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0011_outcome_fits"),
        ("sharing", "0005_record_text_trigram_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="account",
            field=models.ForeignKey(
                blank=True,
                help_text="For a change to access: the account whose access changed.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="access_changes_logged",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="address",
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="hash",
            field=models.CharField(
                default="",
                editable=False,
                help_text="SHA-256 over the entry's fields and the previous entry's hash.",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="person",
            field=models.ForeignKey(
                blank=True,
                help_text="The person whose information it was.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="access_log_entries",
                to="enquiries.person",
            ),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="previous_hash",
            field=models.CharField(
                default="",
                editable=False,
                help_text="The hash of the entry before this one.",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="request_id",
            field=models.CharField(
                blank=True,
                help_text="The request it happened in, as its logs name it.",
                max_length=64,
            ),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="role",
            field=models.CharField(
                blank=True,
                help_text="The user's roles when they acted, comma-separated.",
                max_length=100,
            ),
        ),
        migrations.AddField(
            model_name="accesslogentry",
            name="terms",
            field=models.TextField(
                blank=True, help_text="What was searched for, or an export's filters."
            ),
        ),
        migrations.AlterField(
            model_name="accesslogentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "Viewed sensitive content"),
                    ("view_person", "Viewed person-level information"),
                    ("search", "Searched"),
                    ("release_request", "Requested release"),
                    ("release", "Released"),
                    ("refuse", "Refused release"),
                    ("export", "Exported"),
                    ("read_log", "Read the logs"),
                    ("denied", "Attempt refused"),
                    ("access_requested", "Access change requested"),
                    ("access_granted", "Access change approved"),
                    ("access_declined", "Access change declined"),
                    ("access_removed", "Access removed"),
                ],
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="accesslogentry",
            name="channel",
            field=models.CharField(
                choices=[
                    ("page", "Web page"),
                    ("api", "API"),
                    ("export", "Export"),
                    ("search", "Search"),
                    ("admin", "Administration"),
                ],
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="accesslogentry",
            name="reason",
            field=models.TextField(
                blank=True,
                help_text="The justification: the enquiry worked on and the user's part in it.",
            ),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop, elidable=False),
    ]
