"""Each role's permissions are declared once (agencies.roles) and made true after migrate."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from agencies.models import Role
from agencies.roles import ROLE_PERMISSIONS, permissions_named, sync_role_permissions

pytestmark = pytest.mark.django_db


def held(group: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


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


@pytest.mark.django_db(transaction=True)
def test_a_permission_changed_by_hand_is_put_back_by_migrate(migration_data):
    researcher, administrator = (
        Group.objects.get(name=name) for name in ("researcher", "administrator")
    )
    researcher.permissions.add(Permission.objects.get(codename="view_enquiry"))
    administrator.permissions.remove(Permission.objects.get(codename="change_sharingpolicy"))

    call_command("migrate", verbosity=0)

    assert held("researcher") == set()
    assert held("administrator") == ROLE_PERMISSIONS[Role.ADMINISTRATOR]


def test_a_name_that_is_not_a_permission_is_refused(monkeypatch):
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.ANALYST, frozenset({"enquiries.view_enquiri"}))

    with pytest.raises(LookupError, match="enquiries.view_enquiri"):
        sync_role_permissions()
