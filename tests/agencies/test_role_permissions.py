"""Each role's permissions are declared once (agencies.roles) and made true after migrate."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import override_settings

from agencies.models import Role
from agencies.roles import (
    ROLE_PERMISSIONS,
    after_migrate,
    permissions_named,
    sync_role_permissions,
)

pytestmark = pytest.mark.django_db


def held(group: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def last_app():
    return [config for config in apps.get_app_configs() if config.models_module][-1]


class NoAuthHere:
    """A router that keeps auth's tables off the database."""

    def allow_migrate(self, db, app_label, **hints):
        return app_label != "auth"


def test_every_role_has_a_line_in_the_table():
    assert set(ROLE_PERMISSIONS) == set(Role.values)


def test_every_permission_the_table_names_exists():
    everything = frozenset().union(*ROLE_PERMISSIONS.values())

    assert set(permissions_named(everything)) == everything
    assert sync_role_permissions() == 0


@pytest.mark.parametrize("role", Role.values)
def test_after_migrate_each_role_holds_exactly_its_permissions(role):
    assert held(role) == ROLE_PERMISSIONS[role]


def test_only_administrators_hold_any_permission():
    assert [role for role, names in ROLE_PERMISSIONS.items() if names] == [Role.ADMINISTRATOR]


def test_a_name_that_is_not_a_permission_is_refused(monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.ANALYST, frozenset({"enquiries.view_enquiri"}))

    with pytest.raises(LookupError, match="enquiries.view_enquiri"):
        sync_role_permissions()


def test_a_permission_of_another_app_with_the_same_codename_is_not_taken_for_it(monkeypatch):
    # `view_user` is agencies'; auth has no such permission (its user model is swapped out).
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.ANALYST, frozenset({"auth.view_user"}))

    with pytest.raises(LookupError, match="auth.view_user"):
        sync_role_permissions()


def test_the_sync_puts_back_what_was_changed_by_hand_and_makes_missing_groups():
    Group.objects.get(name=Role.RESEARCHER).permissions.add(
        Permission.objects.get(codename="view_enquiry")
    )
    Group.objects.get(name=Role.ADMINISTRATOR).permissions.remove(
        Permission.objects.get(codename="view_hubclock")
    )
    Group.objects.get(name=Role.AUDITOR).delete()

    assert sync_role_permissions() == 3
    assert {role: held(role) for role in Role.values} == ROLE_PERMISSIONS
    assert sync_role_permissions() == 0


def test_a_partly_migrated_database_gets_no_groups_the_migrations_have_not_made():
    Group.objects.get(name=Role.AUDITOR).delete()

    sync_role_permissions(partly_migrated=True)

    assert not Group.objects.filter(name=Role.AUDITOR).exists()


def test_a_sync_with_nothing_to_change_costs_three_queries(django_assert_num_queries):
    with django_assert_num_queries(3):
        assert sync_role_permissions() == 0


def test_after_migrate_acts_once_per_migrate_and_not_after_a_flush(django_assert_num_queries):
    Group.objects.get(name=Role.ADMINISTRATOR).permissions.clear()
    not_last = apps.get_app_config("agencies")

    with django_assert_num_queries(0):
        after_migrate(sender=not_last, using="default", apps=apps)
        after_migrate(sender=last_app(), using="default")  # as flush sends it
    with override_settings(DATABASE_ROUTERS=[NoAuthHere()]):
        after_migrate(sender=last_app(), using="default", apps=apps)
    assert held(Role.ADMINISTRATOR) == set()

    after_migrate(sender=last_app(), using="default", apps=apps)
    assert held(Role.ADMINISTRATOR) == ROLE_PERMISSIONS[Role.ADMINISTRATOR]


def test_migrate_plan_changes_nothing():
    Group.objects.get(name=Role.ADMINISTRATOR).permissions.clear()

    call_command("migrate", "--plan", verbosity=0)

    assert held(Role.ADMINISTRATOR) == set()


@pytest.mark.django_db(transaction=True)
def test_a_permission_changed_by_hand_is_put_back_by_migrate(migration_data):
    researcher, administrator = (
        Group.objects.get(name=name) for name in (Role.RESEARCHER, Role.ADMINISTRATOR)
    )
    researcher.permissions.add(Permission.objects.get(codename="view_enquiry"))
    administrator.permissions.remove(Permission.objects.get(codename="change_sharingpolicy"))
    Group.objects.get(name=Role.ANALYST).delete()

    call_command("migrate", verbosity=0)

    assert {role: held(role) for role in Role.values} == ROLE_PERMISSIONS
