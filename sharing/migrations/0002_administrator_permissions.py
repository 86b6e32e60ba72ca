"""Administrators keep the sharing policy and may look at requests and chasers (never at
records: those stay with the agencies, domain.md section 2)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADMINISTRATOR_PERMISSIONS = [
    "change_sharingpolicy",
    "view_sharingpolicy",
    "view_informationrequest",
    "view_chaser",
]


def grant_administrators(apps, schema_editor):
    # Permissions are normally made after all migrations; this one needs them now.
    app_config = apps.get_app_config("sharing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name="administrator")
    administrator.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="sharing", codename__in=ADMINISTRATOR_PERMISSIONS
        )
    )


def revoke_administrators(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    administrator = apps.get_model("auth", "Group").objects.filter(name="administrator").first()
    if administrator is not None:
        administrator.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="sharing", codename__in=ADMINISTRATOR_PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0001_information_sharing"),
        ("agencies", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant_administrators, revoke_administrators)]
