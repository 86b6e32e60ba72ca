"""Which subjects each outcome fits: the default list's children's and adults' outcomes."""

from django.db import migrations, models

FITS = {
    "early_help": "child",
    "csc_assessment": "child",
    "strategy_discussion": "child",
    "adult_social_care": "adult",
}


def set_fits_of_default_outcomes(apps, schema_editor):
    Outcome = apps.get_model("enquiries", "Outcome")
    for code, fits in FITS.items():
        Outcome.objects.filter(code=code).update(fits=fits)


class Migration(migrations.Migration):
    dependencies = [("enquiries", "0010_intake_keys_and_heartbeats")]

    operations = [
        migrations.AddField(
            model_name="outcome",
            name="fits",
            field=models.CharField(
                choices=[
                    ("any", "Children and adults"),
                    ("child", "Children only"),
                    ("adult", "Adults at risk only"),
                ],
                default="any",
                help_text="Whether a decision on a child, an adult at risk or either may record it.",
                max_length=8,
            ),
        ),
        # Reversed by removing the field; the values go with it.
        migrations.RunPython(set_fits_of_default_outcomes, migrations.RunPython.noop),
    ]
