"""The access log and the account log, moved here from `sharing` and `agencies` (their
migrations 0007 and 0009) with their tables, rows, trigger and grants as they were: the models
enter this app's state only, and their content types follow them, so permissions and admin
history stay attached."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MOVED = [("sharing", "accesslogentry"), ("agencies", "accountevent")]


def content_types_to_audit(apps, schema_editor) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for app_label, model in MOVED:
        ContentType.objects.filter(app_label=app_label, model=model).update(app_label="audit")


def content_types_back(apps, schema_editor) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for app_label, model in MOVED:
        ContentType.objects.filter(app_label="audit", model=model).update(app_label=app_label)


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0009_account_log_moves_to_audit"),
        ("enquiries", "0012_notifications_about_the_logs"),
        ("sharing", "0007_access_log_moves_to_audit"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AccessLogEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "previous_hash",
                            models.CharField(
                                editable=False,
                                help_text="The hash of the entry before this one.",
                                max_length=64,
                            ),
                        ),
                        (
                            "hash",
                            models.CharField(
                                editable=False,
                                help_text="SHA-256 over the entry's fields and the previous entry's hash.",
                                max_length=64,
                            ),
                        ),
                        (
                            "at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        (
                            "role",
                            models.CharField(
                                blank=True,
                                help_text="The user's roles when they acted, comma-separated.",
                                max_length=100,
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
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
                        (
                            "channel",
                            models.CharField(
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
                        (
                            "reason",
                            models.TextField(
                                blank=True,
                                help_text="The justification: the enquiry worked on and the user's part in it.",
                            ),
                        ),
                        (
                            "terms",
                            models.TextField(
                                blank=True,
                                help_text="What was searched for, or an export's filters.",
                            ),
                        ),
                        ("address", models.GenericIPAddressField(blank=True, null=True)),
                        (
                            "request_id",
                            models.CharField(
                                blank=True,
                                help_text="The request it happened in, as its logs name it.",
                                max_length=64,
                            ),
                        ),
                        (
                            "account",
                            models.ForeignKey(
                                blank=True,
                                help_text="For a change to access: the account whose access changed.",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="access_changes_logged",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "agency",
                            models.ForeignKey(
                                help_text="The user's agency when they acted.",
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="access_log_entries",
                                to="agencies.agency",
                            ),
                        ),
                        (
                            "enquiry",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="access_log_entries",
                                to="enquiries.enquiry",
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                blank=True,
                                help_text="The person whose information it was.",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="access_log_entries",
                                to="enquiries.person",
                            ),
                        ),
                        (
                            "record",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="access_log_entries",
                                to="sharing.informationrecord",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="access_log_entries",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "access log entries",
                        "db_table": "sharing_accesslogentry",
                        "ordering": ["-at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="AccountEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("signed_in", "Signed in"),
                                    ("sign_in_failed", "Sign-in failed"),
                                    ("signed_out", "Signed out"),
                                    ("locked_out", "Locked out after failed sign-ins"),
                                    ("step_up_failed", "Password refused at release"),
                                    ("two_factor_added", "Two-factor device added"),
                                    ("two_factor_removed", "Two-factor device removed"),
                                    ("backup_codes_issued", "Backup codes issued"),
                                    ("two_factor_passed", "One-time password accepted"),
                                    ("two_factor_failed", "One-time password refused"),
                                    ("backup_code_used", "Backup code used"),
                                    ("api_token_created", "API token created"),
                                    ("api_token_revoked", "API token revoked"),
                                    ("set_up_code_used", "Password chosen with a set-up code"),
                                    ("set_up_code_refused", "Set-up code refused"),
                                ],
                                max_length=24,
                            ),
                        ),
                        (
                            "username",
                            models.CharField(
                                help_text="The account's username, or for a failed sign-in the name typed.",
                                max_length=150,
                            ),
                        ),
                        ("address", models.GenericIPAddressField(blank=True, null=True)),
                        ("user_agent", models.CharField(blank=True, max_length=300)),
                        ("detail", models.CharField(blank=True, max_length=200)),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                help_text="The account; empty for a failed sign-in, which keeps only the name typed.",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="account_events",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "agencies_accountevent",
                        "ordering": ["-at", "-id"],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_to_audit, content_types_back),
    ]
