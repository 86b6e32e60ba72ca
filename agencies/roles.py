"""What each role may do in the administration site: the one table of the Django permissions
each role's group holds, made true after every `migrate` (`sync_role_permissions`).

Only administrators hold model permissions. The other roles' rights are not the admin's: what
they may see and do is decided by the pages' roles (agencies.decorators) and the firewall
(sharing.firewall), and no model permission opens case data to anyone. The data migrations
that first gave these permissions stay as history; this table is the truth now, and a
permission added or removed by hand, or a role's group deleted, is put back at the next
`migrate` (`after_migrate`, connected in agencies.apps).
"""

from django.apps import AppConfig
from django.apps import apps as _global_apps
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import StateApps

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
        # How an unacknowledged escalation is repeated, and to which managers in turn.
        "enquiries.change_escalationpolicy",
        "enquiries.view_escalationpolicy",
        "enquiries.add_escalationcontact",
        "enquiries.change_escalationcontact",
        "enquiries.delete_escalationcontact",
        "enquiries.view_escalationcontact",
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
        # How much of each week's no-further-action decisions is sampled, and who reviews.
        "reports.change_nfasampling",
        "reports.view_nfasampling",
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


def permissions_named(names: frozenset[str], *, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Each "app_label.codename" in `names` that is a permission, with its id (one query)."""
    if not names:
        return {}
    pairs = {tuple(name.split(".", 1)) for name in names}
    found = Permission.objects.using(using).filter(
        content_type__app_label__in={app_label for app_label, _ in pairs},
        codename__in={codename for _, codename in pairs},
    )
    return {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in found.values_list(
            "pk", "content_type__app_label", "codename"
        )
        if (app_label, codename) in pairs
    }


def sync_role_permissions(*, using: str = DEFAULT_DB_ALIAS, partly_migrated: bool = False) -> int:
    """Make each role's group hold exactly its permissions in the table, making the groups
    that are missing. Returns how many groups were made and grants added or taken away. Three
    queries when nothing is to change; a change is a group's `permissions.add` or `remove`, in
    one transaction, so the change log has it (agencies.apps).

    A permission the table names that does not exist is a mistake in the table, refused;
    unless the database is `partly_migrated` (`migrate <app> <migration>`), where an app not
    yet migrated has none of its permissions yet and the groups may not be made yet
    (agencies migration 0002 makes them, and taking it back removes them): there the groups
    that exist get the permissions that do."""
    everything: frozenset[str] = frozenset().union(*ROLE_PERMISSIONS.values())
    named = permissions_named(everything, using=using)
    unknown = everything - named.keys()
    if unknown and not partly_migrated:
        raise LookupError(f"No such permissions: {', '.join(sorted(unknown))}")
    groups = {
        group.name: group for group in Group.objects.using(using).filter(name__in=ROLE_PERMISSIONS)
    }
    held: dict[str, set[int]] = {name: set() for name in ROLE_PERMISSIONS}
    for name, permission_id in (
        Group.permissions.through.objects.using(using)
        .filter(group__in=groups.values())
        .values_list("group__name", "permission_id")
    ):
        held[name].add(permission_id)
    wanted = {
        name: {named[permission] for permission in permissions if permission in named}
        for name, permissions in ROLE_PERMISSIONS.items()
    }
    to_make = set() if partly_migrated else ROLE_PERMISSIONS.keys() - groups.keys()
    to_change = {name for name in groups.keys() | to_make if wanted[name] != held[name]}
    if not (to_make or to_change):
        return 0
    with transaction.atomic(using=using):
        for name in sorted(to_make):
            groups[name] = Group.objects.using(using).create(name=name)
        for name in sorted(to_change):
            if missing := wanted[name] - held[name]:
                groups[name].permissions.add(*missing)
            if extra := held[name] - wanted[name]:
                groups[name].permissions.remove(*extra)
    return len(to_make) + sum(len(wanted[name] ^ held[name]) for name in to_change)


def _last_app_migrated() -> AppConfig:
    """Django sends post_migrate once for each app with models, in this order, each after
    the permissions of that app are made (its own receiver, connected by django.contrib.auth,
    an app listed before this one): at the last, every permission exists."""
    return [config for config in _global_apps.get_app_configs() if config.models_module][-1]


def _fully_migrated(using: str) -> bool:
    """Whether every migration on disk is applied to the database (two queries)."""
    loader = MigrationLoader(connections[using])
    return set(loader.graph.nodes) <= set(loader.applied_migrations)


def after_migrate(
    sender: AppConfig,
    using: str = DEFAULT_DB_ALIAS,
    apps: StateApps | None = None,
    **kwargs,
) -> None:
    """Once per `migrate`, whole or partial, on the database migrated (`using`); a migrate
    to the end makes missing groups and refuses a name in the table that is no permission
    (a test refuses it first: tests/agencies/test_role_permissions.py).

    `flush` sends post_migrate too, without the migrated state (`apps`): it has just emptied
    the groups with every other table, and there is nothing to sync. `migrate --plan` sends
    nothing."""
    if apps is None or sender is not _last_app_migrated():
        return
    try:
        # Not before auth is migrated (`migrate contenttypes` on an empty database).
        apps.get_model("auth", "Group")
        apps.get_model("auth", "Permission")
    except LookupError:
        return
    if not (
        router.allow_migrate_model(using, Group) and router.allow_migrate_model(using, Permission)
    ):
        return
    sync_role_permissions(using=using, partly_migrated=not _fully_migrated(using))
