"""Creates one group per role (domain.md section 2) and gives administrators the admin rights."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ["researcher", "practitioner", "manager", "analyst", "auditor", "administrator"]

ADMINISTRATOR_PERMISSIONS = [
    ("agencies", "add_agency"),
    ("agencies", "change_agency"),
    ("agencies", "view_agency"),
    ("agencies", "add_user"),
    ("agencies", "change_user"),
    ("agencies", "view_user"),
    ("auth", "view_group"),
]


def create_role_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; this one needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    administrator = Group.objects.get(name="administrator")
    for app_label, codename in ADMINISTRATOR_PERMISSIONS:
        administrator.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
