"""Changes to what people may do are in the change log with who made them: roles (group
membership), permissions of a role or a person, superuser status, and django-guardian grants on
single records, a release being one."""

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from guardian.shortcuts import remove_perm

from agencies import administration
from agencies.models import Role, User
from core.request_context import WITHHELD
from sharing.firewall import VIEW_CONTENT
from sharing.models import RecordGroupObjectPermission

from .conftest import release

pytestmark = pytest.mark.django_db

Action = LogEntry.Action


def latest_about(obj) -> LogEntry:
    return LogEntry.objects.get_for_object(obj).latest("id")


def user_form(user: User, roles: list[str], reason: str = "") -> dict:
    """The person's hub settings form with `roles`, checked and confirmed."""
    user = User.objects.get(pk=user.pk)
    return {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "job_title": user.job_title,
        "agency": user.agency_id,
        "roles": roles,
        "reason": reason,
        "is_active": "active",
        "seen": administration.person_version(user),
        "confirm": "1",
    }


def test_a_role_given_and_taken_away_in_hub_settings_is_logged_with_who_did_it(client, make_user):
    administrator, approver = make_user(Role.ADMINISTRATOR), make_user(Role.ADMINISTRATOR)
    person = make_user(Role.RESEARCHER)
    url = reverse("hub-settings:person-change", args=[person.pk])
    client.force_login(administrator)
    asked = client.post(url, user_form(person, [Role.RESEARCHER, Role.MANAGER], "Promoted."))

    # given once a second administrator approves it (tests/agencies/test_access_changes.py)
    client.force_login(approver)
    change = person.access_changes.get()
    decide = reverse("hub-settings:access-change", args=[change.pk])
    approved = client.post(decide, {"decision": "approve"})
    given_entry = latest_about(person)
    client.force_login(administrator)
    taken = client.post(url, user_form(person, [Role.MANAGER], "Now a manager only."))
    taken_entry = latest_about(person)

    assert asked.status_code == approved.status_code == taken.status_code == 302
    assert given_entry.actor == approver
    assert taken_entry.actor == administrator
    assert given_entry.changes["groups"] == {
        "type": "m2m",
        "operation": "add",
        "objects": [Role.MANAGER],
    }
    assert taken_entry.changes["groups"] == {
        "type": "m2m",
        "operation": "delete",
        "objects": [Role.RESEARCHER],
    }


def test_permissions_of_a_role_or_a_person_and_superuser_status_are_logged(make_user):
    administrator = make_user(Role.ADMINISTRATOR)
    person = make_user(Role.ANALYST)
    permission = Permission.objects.get(codename="view_enquiry")
    analysts = Group.objects.get(name=Role.ANALYST)

    with set_actor(administrator):
        analysts.permissions.add(permission)
        person.user_permissions.add(permission)
        person.is_superuser = True
        person.save()

    role_entry = latest_about(analysts)
    assert role_entry.actor == administrator
    assert role_entry.changes["permissions"]["operation"] == "add"
    person_entries = LogEntry.objects.get_for_object(person).filter(actor=administrator)
    assert [entry.changes for entry in person_entries.order_by("id")] == [
        {"user_permissions": {"type": "m2m", "operation": "add", "objects": [str(permission)]}},
        {"is_superuser": ["False", "True"]},
    ]


def test_a_password_change_is_logged_without_the_password(make_user):
    person = make_user(Role.RESEARCHER)

    with set_actor(person):
        person.set_password("a-new-and-longer-passphrase")
        person.save()

    entry = latest_about(person)
    assert entry.actor == person
    assert entry.changes == {"password": [WITHHELD, WITHHELD]}


def test_a_release_grants_the_working_roles_and_each_grant_is_logged(hub):
    record = hub.record("release_requested", marker="G")

    with set_actor(hub.police_officer):
        release(record, hub.police_officer)

    grants = LogEntry.objects.get_for_model(RecordGroupObjectPermission)
    assert grants.filter(action=Action.CREATE, actor=hub.police_officer).count() == 3
    assert {tuple(entry.object_repr.split(" | ")[1:]) for entry in grants} == {
        (role, VIEW_CONTENT) for role in (Role.RESEARCHER, Role.MANAGER, Role.PRACTITIONER)
    }


def test_a_grant_taken_away_is_logged(hub):
    record = hub.record("released", marker="R")
    managers = Group.objects.get(name=Role.MANAGER)

    with set_actor(hub.administrator):
        remove_perm(f"sharing.{VIEW_CONTENT}", managers, record)

    entry = LogEntry.objects.get_for_model(RecordGroupObjectPermission).latest("id")
    assert (entry.action, entry.actor) == (Action.DELETE, hub.administrator)
    assert entry.object_repr == f"{record} | {Role.MANAGER} | {VIEW_CONTENT}"
