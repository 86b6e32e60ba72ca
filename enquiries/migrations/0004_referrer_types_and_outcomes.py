"""The referrer types and outcomes a hub starts with (domain.md sections 4 and 6)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REFERRER_TYPES = [
    ("police", "Police"),
    ("school", "School"),
    ("gp", "GP"),
    ("health_visitor", "Health visitor"),
    ("hospital", "Hospital"),
    ("probation", "Probation"),
    ("housing", "Housing"),
    ("public", "Member of the public"),
    ("family", "Family member"),
    ("self", "Self"),
    ("anonymous", "Anonymous"),
    ("other", "Other"),
]
OUTCOMES = [
    ("nfa", "No further action", False),
    ("advice", "Information and advice given", False),
    ("early_help", "Early help / early response (tier 2 services)", False),
    ("csc_assessment", "Referral to children's social care for assessment", True),
    ("strategy_discussion", "Strategy discussion / child protection enquiry", True),
    ("adult_social_care", "Referral to adult social care", True),
    ("other_agency", "Referral to another agency / universal services", False),
    ("marac", "Domestic abuse: MARAC referral", False),
]


def create_reference_lists(apps, schema_editor):
    ReferrerType = apps.get_model("enquiries", "ReferrerType")
    Outcome = apps.get_model("enquiries", "Outcome")
    for code, name in REFERRER_TYPES:
        ReferrerType.objects.get_or_create(code=code, defaults={"name": name})
    for code, name, leads_to_referral in OUTCOMES:
        Outcome.objects.get_or_create(
            code=code, defaults={"name": name, "leads_to_referral": leads_to_referral}
        )

    # Administrators keep these lists (domain.md section 2).
    app_config = apps.get_app_config("enquiries")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name="administrator")
    administrator.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="enquiries",
            codename__in=[
                f"{action}_{model}"
                for model in ("referrertype", "outcome")
                for action in ("add", "change", "view")
            ],
        )
    )


def remove_reference_lists(apps, schema_editor):
    apps.get_model("enquiries", "ReferrerType").objects.all().delete()
    apps.get_model("enquiries", "Outcome").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("enquiries", "0003_enquiries"), ("agencies", "0002_role_groups")]

    operations = [migrations.RunPython(create_reference_lists, remove_reference_lists)]
