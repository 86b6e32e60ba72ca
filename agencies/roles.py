"""What each role may do in the administration site: the one table of the Django permissions
each role's group holds, made true after every `migrate` (`sync_role_permissions`).

Only administrators hold model permissions. The other roles' rights are not the admin's: what
they may see and do is decided by the pages' roles (agencies.decorators) and the firewall
(sharing.firewall), and no model permission opens case data to anyone. The data migrations
that first gave these permissions stay as history; this table is the truth now, and a
permission added or removed by hand is put back at the next `migrate`.
"""

from django.apps import AppConfig
from django.apps import apps as _global_apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .models import Role

ADMINISTRATOR = frozenset(
    {
        # Agencies and the people in them; access is changed only through requests a second
        # administrator approves (agencies.access), which the admin shows and decides.
        "agencies.add_agency",
        "agencies.change_agency",
        "agencies.view_agency",
        "agencies.add_user",
        "agencies.change_user",
        "agencies.view_user",
        "agencies.change_accesschange",
        "agencies.view_accesschange",
        # API tokens: seen and revoked, never made or read here.
        "agencies.change_apitoken",
        "agencies.view_apitoken",
        # Roles are groups: seen, not edited (this table is what they hold).
        "auth.view_group",
        # Locked-out sign-ins, to unlock someone.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        # The hub's clock: opening hours, closures and RAG allowances.
        "enquiries.add_hubclock",
        "enquiries.change_hubclock",
        "enquiries.delete_hubclock",
        "enquiries.view_hubclock",
        "enquiries.add_openinghours",
        "enquiries.change_openinghours",
        "enquiries.delete_openinghours",
        "enquiries.view_openinghours",
        "enquiries.add_closureday",
        "enquiries.change_closureday",
        "enquiries.delete_closureday",
        "enquiries.view_closureday",
        "enquiries.add_ragallowance",
        "enquiries.change_ragallowance",
        "enquiries.delete_ragallowance",
        "enquiries.view_ragallowance",
        # The hub's lists: retired, never deleted, so past decisions keep their words.
        "enquiries.add_outcome",
        "enquiries.change_outcome",
        "enquiries.view_outcome",
        "enquiries.add_referrertype",
        "enquiries.change_referrertype",
        "enquiries.view_referrertype",
        # Sharing's policy (due times, chasing), and requests and chasers without their
        # questions (sharing.admin): never records, which stay with the agencies.
        "sharing.change_sharingpolicy",
        "sharing.view_sharingpolicy",
        "sharing.view_informationrequest",
        "sharing.view_chaser",
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.RESEARCHER: frozenset(),
    Role.PRACTITIONER: frozenset(),
    Role.MANAGER: frozenset(),
    Role.ANALYST: frozenset(),
    Role.AUDITOR: frozenset(),
    Role.ADMINISTRATOR: ADMINISTRATOR,
}


def permissions_named(names: frozenset[str], *, using: str = "default") -> dict[str, int]:
    """Each "app_label.codename" in `names` with its permission's id (one query)."""
    wanted = Q()
    for name in names:
        app_label, codename = name.split(".", 1)
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    if not names:
        return {}
    return {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(wanted)
        .values_list("pk", "content_type__app_label", "codename")
    }


def sync_role_permissions(*, using: str = "default", partly_migrated: bool = False) -> int:
    """Make each role's group (where it exists: migrations make them) hold exactly its
    permissions in the table. Returns how many grants were added or taken away.

    A permission the table names that does not exist is a mistake in the table, refused;
    unless the database is `partly_migrated` (`migrate <app> <migration>`), where an app not
    yet migrated has none of its permissions yet, and the rest are synced."""
    everything: frozenset[str] = frozenset().union(*ROLE_PERMISSIONS.values())
    named = permissions_named(everything, using=using)
    unknown = everything - named.keys()
    if unknown and not partly_migrated:
        raise LookupError(f"No such permissions: {', '.join(sorted(unknown))}")
    changed = 0
    for group in Group.objects.using(using).filter(name__in=ROLE_PERMISSIONS):
        wanted = {named[name] for name in ROLE_PERMISSIONS[group.name] if name in named}
        held = set(group.permissions.values_list("pk", flat=True))
        if wanted - held:
            group.permissions.add(*(wanted - held))
        if held - wanted:
            group.permissions.remove(*(held - wanted))
        changed += len(wanted ^ held)
    return changed


def _last_app_migrated() -> AppConfig:
    """Django sends post_migrate once for each app with models, in this order, each after
    the permissions of that app are made: at the last, every permission exists."""
    return [config for config in _global_apps.get_app_configs() if config.models_module][-1]


def after_migrate(sender: AppConfig, using: str = "default", **kwargs) -> None:
    """After every `migrate`, whole or partial (a test of the table's names is what refuses a
    mistake in it: tests/agencies/test_role_permissions.py)."""
    if sender is _last_app_migrated():
        sync_role_permissions(using=using, partly_migrated=True)
