from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0008_withdrawals_corrections_and_lead_agency"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="informationrequest",
            index=models.Index(
                condition=models.Q(("withdrawn_at__isnull", False)),
                fields=["agency", "-withdrawn_at", "-id"],
                name="information_request_withdrawn",
            ),
        ),
    ]
