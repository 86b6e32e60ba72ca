"""The default clock (domain.md section 4): Mon-Fri 09:00-17:00 Europe/London, England and Wales
bank holidays, Red 240, Amber 480, Green and no RAG 1440 working minutes, at risk from 75%.
Administrators may change all of it."""

import datetime

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALLOWANCES = {"red": 240, "amber": 480, "green": 1440, "none": 1440}
ADMINISTRATOR_PERMISSIONS = [
    f"{action}_{model}"
    for model in ("hubclock", "openinghours", "closureday", "ragallowance")
    for action in ("add", "change", "delete", "view")
]


def create_default_clock(apps, schema_editor):
    HubClock = apps.get_model("enquiries", "HubClock")
    OpeningHours = apps.get_model("enquiries", "OpeningHours")
    RagAllowance = apps.get_model("enquiries", "RagAllowance")

    clock, created = HubClock.objects.get_or_create(pk=1)
    if created:
        for weekday in range(5):
            OpeningHours.objects.create(
                hub_clock=clock,
                weekday=weekday,
                opens=datetime.time(9, 0),
                closes=datetime.time(17, 0),
            )
    for rating, minutes in ALLOWANCES.items():
        RagAllowance.objects.get_or_create(
            hub_clock=clock, rating=rating, defaults={"minutes": minutes, "clock": "working"}
        )

    app_config = apps.get_app_config("enquiries")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name="administrator")
    administrator.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="enquiries", codename__in=ADMINISTRATOR_PERMISSIONS
        )
    )


def remove_default_clock(apps, schema_editor):
    apps.get_model("enquiries", "HubClock").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("enquiries", "0001_hub_clock"),
        ("agencies", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(create_default_clock, remove_default_clock)]
