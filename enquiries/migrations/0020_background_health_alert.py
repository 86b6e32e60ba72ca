from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0019_enquiry_timing_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="BackgroundHealth",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                (
                    "bad_since",
                    models.DateTimeField(
                        blank=True,
                        help_text="When the check was first seen failing, if it is.",
                        null=True,
                    ),
                ),
                (
                    "alerted_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="When the administrators were told of this failure.",
                        null=True,
                    ),
                ),
                ("checked_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "verbose_name_plural": "background health",
            },
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("at_risk", "At risk"),
                    ("breached", "Breached"),
                    ("information_request", "Information request"),
                    ("chaser", "Information request overdue"),
                    ("release_request", "Release requested"),
                    ("release_answer", "Release answered"),
                    ("information_answered", "Information answered"),
                    ("escalated", "Escalated"),
                    ("escalation_repeated", "Escalation not yet acknowledged"),
                    ("request_withdrawn", "Information request withdrawn"),
                    ("record_corrected", "Record corrected"),
                    ("record_withdrawn", "Record withdrawn"),
                    ("referral_returned", "Referral returned"),
                    ("nfa_reviewed", "NFA decision reviewed"),
                    ("log_broken", "Access log broken"),
                    ("background_fault", "Background work failing"),
                    ("background_recovered", "Background work back to normal"),
                ],
                max_length=24,
            ),
        ),
    ]
