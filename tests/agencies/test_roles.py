import pytest
from django.contrib.auth.models import Group

from agencies.models import Role

pytestmark = pytest.mark.django_db


DOMAIN_ROLES = {"researcher", "practitioner", "manager", "analyst", "auditor", "administrator"}


def test_a_group_exists_for_every_role_in_the_domain():
    assert set(Role.values) == DOMAIN_ROLES
    assert set(Group.objects.values_list("name", flat=True)) >= DOMAIN_ROLES


def test_administrators_may_manage_agencies_and_people_and_no_other_role_may():
    administrator = Group.objects.get(name=Role.ADMINISTRATOR)
    codenames = set(administrator.permissions.values_list("codename", flat=True))

    assert {"add_agency", "change_agency", "add_user", "change_user"} <= codenames
    assert "delete_agency" not in codenames
    for role in set(Role.values) - {Role.ADMINISTRATOR}:
        assert not Group.objects.get(name=role).permissions.exists(), role


def test_a_person_may_hold_several_roles(make_user):
    user = make_user(Role.MANAGER, Role.PRACTITIONER)

    assert user.roles == {"manager", "practitioner"}
    assert user.has_role(Role.PRACTITIONER)
    assert not user.has_role(Role.AUDITOR)


def test_groups_that_are_not_roles_are_not_roles(make_user):
    user = make_user(Role.RESEARCHER)
    user.groups.add(Group.objects.create(name="book club"))

    assert user.roles == {"researcher"}


def test_a_deactivated_person_holds_no_role(make_user):
    user = make_user(Role.MANAGER, is_active=False)

    assert not user.has_role(Role.MANAGER)


def test_every_person_belongs_to_exactly_one_agency(make_user):
    from django.db import IntegrityError

    from agencies.models import User

    with pytest.raises(IntegrityError):
        User.objects.create(username="no-agency")
