"""The escalation and sharing policies on their settings pages: checked first, saved with a
reason only over the version checked, and kept in the history."""

import pytest
from django.urls import reverse

from agencies.models import Role
from enquiries.clock_settings import clock_settings, escalation_settings
from enquiries.models import EscalationPolicy, HubSettingsChange
from mash.hub_settings.forms import AllowancesForm
from sharing import services as sharing_services
from sharing.models import InformationRequest, SharingPolicy
from sharing.policy_settings import policy_settings
from tests.factories import AgencyFactory

from .conftest import log_rated

pytestmark = pytest.mark.django_db

ESCALATION = reverse("hub-settings:escalation")
SHARING = reverse("hub-settings:sharing")
REASON = "Agreed at the partnership board."


@pytest.fixture
def managers(make_user):
    return {
        name: make_user(Role.MANAGER, username=name.lower(), first_name=name, last_name="Lee")
        for name in ("Ann", "Bea", "Cal")
    }


def test_the_managers_are_told_in_the_order_given_after_the_minutes_given(
    admin_client, administrator, managers
):
    ann, bea, cal = managers["Ann"], managers["Bea"], managers["Cal"]
    data = {
        "version": escalation_settings().version,
        "repeat_minutes": "30",
        f"manager_{ann.pk}": "2",
        f"manager_{cal.pk}": "1",
        f"manager_{bea.pk}": "",
    }

    checked = admin_client.post(ESCALATION, data)
    saved = admin_client.post(ESCALATION, {**data, "confirm": "1", "reason": REASON})

    assert [(c.what, c.old, c.new) for c in checked.context["changes"]] == [
        ("Sent again after", "15 minutes", "30 minutes"),
        ("Managers told in turn", "Every active manager, by name", "1. Cal Lee, 2. Ann Lee"),
    ]
    assert checked.context["effect"] == (
        "Escalations no manager has acknowledged (0 now) are sent again every 30 minutes, at "
        "any hour. No deadline moves."
    )
    assert saved.status_code == 302
    policy = EscalationPolicy.current()
    assert policy.repeat_minutes == 30
    assert list(policy.contacts.values_list("manager__username", "position")) == [
        ("cal", 1),
        ("ann", 2),
    ]
    change = HubSettingsChange.objects.get()
    assert (change.area, change.changed_by, change.reason) == ("escalation", administrator, REASON)
    assert (change.version_before, change.version_after) == (1, 2)
    assert change.before == {"version": 1, "repeat_minutes": 15, "managers": []}
    assert change.after == {"version": 2, "repeat_minutes": 30, "managers": [cal.pk, ann.pk]}


def test_two_managers_in_one_place_is_an_error(admin_client, managers):
    ann, bea = managers["Ann"], managers["Bea"]

    response = admin_client.post(
        ESCALATION,
        {"version": 1, "repeat_minutes": "15", f"manager_{ann.pk}": "1", f"manager_{bea.pk}": "1"},
    )

    assert response.context["form"].errors == {
        f"manager_{bea.pk}": ["Give each manager a different place; 1 is taken"]
    }
    assert "<title>Error: Escalation policy" in response.content.decode()


def test_the_minutes_must_be_a_whole_number_from_one(admin_client, managers):
    response = admin_client.post(ESCALATION, {"version": 1, "repeat_minutes": "0"})

    assert response.context["form"].errors["repeat_minutes"] == [
        "Send it again after (minutes) must be at least 1 minute"
    ]


def test_an_escalation_change_over_someone_elses_is_refused(admin_client, managers):
    policy = EscalationPolicy.current()
    policy.repeat_minutes = 20
    policy.save()  # someone else's change, bumping the version

    response = admin_client.post(
        ESCALATION, {"version": 1, "repeat_minutes": "30", "confirm": "1", "reason": REASON}
    )

    assert "Nothing was saved" in response.content.decode()
    assert EscalationPolicy.current().repeat_minutes == 20
    assert not HubSettingsChange.objects.exists()


@pytest.fixture
def open_requests(researcher):
    """Three open requests on two Amber enquiries (480 working minutes, due at 75%), and one
    already answered."""
    police, health = AgencyFactory(name="Police"), AgencyFactory(name="Health")
    bea, cat = log_rated(researcher, "amber", "Bea", "Cat")
    requests = sharing_services.send_information_requests(
        enquiry=bea, actor=researcher, agencies=[police, health]
    ) + sharing_services.send_information_requests(
        enquiry=cat, actor=researcher, agencies=[police, health]
    )
    InformationRequest.objects.filter(pk=requests[-1].pk).update(status="answered")
    return requests


def sharing_form(**changes) -> dict:
    current = policy_settings()
    return {
        "version": current.version,
        "request_due_percent": current.request_due_percent,
        "chase_interval_minutes": current.chase_interval_minutes,
        "lead_agency": current.lead_agency or "",
        **changes,
    }


def test_the_check_counts_the_open_requests_whose_due_time_moves(admin_client, open_requests):
    response = admin_client.post(SHARING, sharing_form(request_due_percent="50"))

    assert [(c.what, c.old, c.new) for c in response.context["changes"]] == [
        (
            "Information requests due at",
            "75% of the enquiry's allowance",
            "50% of the enquiry's allowance",
        )
    ]
    assert response.context["effect"] == (
        "This will move the due time of 3 open information requests (of 3 open)."
    )


def test_a_new_amber_allowance_says_which_open_requests_fall_due_elsewhere(
    admin_client, open_requests
):
    """The hub clock's check counts what falls due with the deadlines: the three open
    requests, on Amber enquiries, are due at 75% of whatever Amber's allowance becomes."""
    response = admin_client.post(
        reverse("hub-settings:allowances"),
        {**AllowancesForm.initial_for(clock_settings()), "amber_minutes": "120"},
    )

    assert response.context["effect"] == (
        "This will move 2 open deadlines (of 2 open enquiries) and when 2 open enquiries turn "
        "at risk, and the due times of 3 of 3 open information requests."
    )


def test_a_red_allowance_moves_no_amber_requests_due_time(admin_client, open_requests):
    response = admin_client.post(
        reverse("hub-settings:allowances"),
        {**AllowancesForm.initial_for(clock_settings()), "red_minutes": "120"},
    )

    assert response.context["effect"] == (
        "This will move 0 open deadlines (of 2 open enquiries), and the due times of 0 of 3 "
        "open information requests."
    )


def test_the_chase_interval_moves_no_due_time(admin_client, open_requests):
    response = admin_client.post(SHARING, sharing_form(chase_interval_minutes="120"))

    assert response.context["effect"] == (
        "This will move the due time of 0 open information requests (of 3 open)."
    )


def test_the_sharing_policy_is_saved_with_its_history(
    admin_client, administrator, open_requests, django_capture_on_commit_callbacks
):
    lead = AgencyFactory(name="Children's Social Care")
    data = sharing_form(request_due_percent="50", lead_agency=str(lead.pk))

    with django_capture_on_commit_callbacks() as queued:
        saved = admin_client.post(SHARING, {**data, "confirm": "1", "reason": REASON})

    assert saved.status_code == 302
    policy = SharingPolicy.current()
    assert (policy.request_due_percent, policy.lead_agency) == (50, lead)
    assert len(queued) == 1  # the catch-up that moves the open requests' due times
    change = HubSettingsChange.objects.get()
    assert change.area == "sharing"
    assert change.changes == [
        [
            "Information requests due at",
            "75% of the enquiry's allowance",
            "50% of the enquiry's allowance",
        ],
        ["Agency that runs the hub", "None", "Children's Social Care"],
    ]
    assert (
        change.effect == "This will move the due time of 3 open information requests (of 3 open)."
    )
    assert (change.version_before, change.version_after) == (1, 2)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"request_due_percent": ""}, "request_due_percent", "Enter the share of the allowance"),
        (
            {"request_due_percent": "0"},
            "request_due_percent",
            "The share of the allowance must be between 1 and 100",
        ),
        (
            {"chase_interval_minutes": "soon"},
            "chase_interval_minutes",
            "Chase an overdue request again after (minutes) must be a whole number of minutes, "
            "like 240",
        ),
        ({"lead_agency": "999999"}, "lead_agency", "Select an active agency, or None"),
    ],
)
def test_each_sharing_error_is_specific(admin_client, changes, field, message):
    response = admin_client.post(SHARING, sharing_form(**changes))

    assert response.context["form"].errors[field] == [message]
    assert "<title>Error: Sharing policy" in response.content.decode()


def test_a_sharing_change_over_someone_elses_is_refused(admin_client):
    checked = sharing_form(request_due_percent="50")
    policy = SharingPolicy.current()
    policy.chase_interval_minutes = 90
    policy.save()  # someone else's change, bumping the version

    response = admin_client.post(SHARING, {**checked, "confirm": "1", "reason": REASON})

    assert "Nothing was saved" in response.content.decode()
    assert SharingPolicy.current().request_due_percent == 75
    assert not HubSettingsChange.objects.exists()
