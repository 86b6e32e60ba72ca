"""Hub settings: agencies as GOV.UK pages (issue 22 item 7), and who may open the agencies,
people and list pages at all."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from agencies.models import Agency, Role, User
from audit.models import AccessLogEntry
from enquiries.models import HubSettingsChange
from tests.factories import AgencyFactory, UserFactory
from tests.two_factor import password_only_login

pytestmark = pytest.mark.django_db

PAGES = [
    ("hub-settings:agencies", []),
    ("hub-settings:agency-add", []),
    ("hub-settings:people", []),
    ("hub-settings:person-add", []),
    ("hub-settings:access-changes", []),
    ("hub-settings:outcomes", []),
    ("hub-settings:outcome-add", []),
    ("hub-settings:referrer-types", []),
    ("hub-settings:referrer-type-add", []),
]


@pytest.fixture
def police(db) -> Agency:
    return AgencyFactory(name="Thames Valley Police", kind=Agency.Kind.POLICE)


@pytest.fixture
def administrator(db) -> User:
    return UserFactory(
        roles=[Role.ADMINISTRATOR], username="ada", first_name="Ada", last_name="Admin"
    )


def agency_form(**changes) -> dict:
    return {
        "name": "Oxford Health",
        "kind": Agency.Kind.HEALTH,
        "participation": Agency.Participation.PART_TIME,
        "asked_by_default": "yes",
        "reason": "Joins the hub in January.",
        **changes,
    }


@pytest.mark.parametrize("name,args", PAGES)
@pytest.mark.parametrize(
    "role", [Role.RESEARCHER, Role.PRACTITIONER, Role.MANAGER, Role.ANALYST, Role.AUDITOR]
)
def test_only_administrators_and_superusers_open_the_pages(client, name, args, role):
    client.force_login(UserFactory(roles=[role]))

    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize("name,args", PAGES)
def test_administrators_and_superusers_open_every_page(client, administrator, name, args):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    for user in (administrator, superuser):
        client.force_login(user)
        assert client.get(reverse(name, args=args)).status_code == 200


def test_a_session_past_the_password_alone_goes_on_to_its_one_time_password(client, administrator):
    password_only_login(client, administrator)

    response = client.get(reverse("hub-settings:agencies"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("two-factor"))


def test_nobody_signed_in_is_sent_to_sign_in(client):
    assert isinstance(client.get("/").wsgi_request.user, AnonymousUser)
    response = client.get(reverse("hub-settings:people"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_deactivated_administrator_is_refused(client, administrator):
    client.force_login(administrator)
    User.objects.filter(pk=administrator.pk).update(is_active=False)

    assert client.get(reverse("hub-settings:agencies")).status_code in (302, 403)


def test_the_list_shows_each_agency_with_its_active_people(client, administrator, police):
    UserFactory.create_batch(3, agency=police)
    UserFactory(agency=police, is_active=False)
    client.force_login(administrator)

    page = client.get(reverse("hub-settings:agencies")).content.decode()

    assert "Thames Valley Police" in page
    assert f'href="{reverse("hub-settings:people")}?agency={police.pk}">3<span' in page


@pytest.mark.parametrize("agencies", [2, 12])
def test_the_list_takes_the_same_queries_however_many_agencies(
    client, administrator, django_assert_max_num_queries, agencies
):
    for n in range(agencies):
        UserFactory(agency=AgencyFactory(name=f"Agency {n}"))
    client.force_login(administrator)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("hub-settings:agencies"))

    assert response.status_code == 200


def test_adding_an_agency_is_checked_then_saved(client, administrator):
    client.force_login(administrator)
    url = reverse("hub-settings:agency-add")

    check = client.post(url, agency_form())

    assert check.status_code == 200
    page = check.content.decode()
    assert "Check the change" in page
    assert "Oxford Health" in page
    assert not Agency.objects.filter(name="Oxford Health").exists()

    saved = client.post(url, {**agency_form(), "confirm": "1"})

    assert saved.status_code == 302
    agency = Agency.objects.get(name="Oxford Health")
    assert (agency.kind, agency.participation, agency.asked_by_default, agency.is_active) == (
        Agency.Kind.HEALTH,
        Agency.Participation.PART_TIME,
        True,
        True,
    )


def test_each_field_says_what_is_wrong(client, administrator, police):
    client.force_login(administrator)

    response = client.post(reverse("hub-settings:agency-add"), {"name": "thames valley police"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Add an agency" in page
    assert "There is already an agency called thames valley police." in page
    assert "Choose what kind of agency it is." in page
    assert 'href="#id_participation_0">Choose how the agency takes part.' in page
    assert 'href="#id_asked_by_default_0">Choose whether it is asked about every enquiry.' in page
    assert Agency.objects.filter(name__iexact="thames valley police").count() == 1

    empty = client.post(reverse("hub-settings:agency-add"), {})
    assert "Enter the agency&#x27;s name." in empty.content.decode()


def test_deactivating_an_agency_says_how_many_people_lose_sign_in(client, administrator, police):
    people = UserFactory.create_batch(14, agency=police, roles=[Role.PRACTITIONER])
    UserFactory(agency=police, is_active=False)
    client.force_login(administrator)
    url = reverse("hub-settings:agency-change", args=[police.pk])
    form = client.get(url).context["form"]
    data = {
        **agency_form(name=police.name, kind=police.kind, participation=police.participation),
        "is_active": "inactive",
        "seen": form.initial["seen"],
    }

    check = client.post(url, data).content.decode()

    assert "14 people in this agency will no longer be able to sign in" in check
    assert User.objects.filter(agency=police, is_active=True).count() == 14

    client.post(url, {**data, "confirm": "1"})

    police.refresh_from_db()
    assert not police.is_active
    assert not User.objects.filter(agency=police, is_active=True).exists()
    removed = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.ACCESS_REMOVED)
    assert removed.count() == 14
    assert set(removed.values_list("account_id", flat=True)) == {person.pk for person in people}
    assert set(removed.values_list("user_id", flat=True)) == {administrator.pk}
    assert all(
        entry.reason.endswith(
            f"deactivate the account. By {administrator}: Their agency, {police}, was deactivated."
        )
        for entry in removed
    )


def test_an_administrator_cannot_deactivate_their_own_agency(client, administrator):
    agency = administrator.agency
    client.force_login(administrator)
    url = reverse("hub-settings:agency-change", args=[agency.pk])
    seen = client.get(url).context["form"].initial["seen"]
    data = {
        **agency_form(name=agency.name, kind=agency.kind, participation=agency.participation),
        "is_active": "inactive",
        "seen": seen,
    }

    check = client.post(url, data).content.decode()
    saved = client.post(url, {**data, "confirm": "1"})

    assert "You are in this agency" in check
    assert 'name="confirm"' not in check
    assert "You are in this agency" in saved.content.decode()
    agency.refresh_from_db()
    assert agency.is_active
    assert User.objects.get(pk=administrator.pk).is_active


def test_a_change_made_meanwhile_is_never_overwritten(client, administrator, police):
    client.force_login(administrator)
    url = reverse("hub-settings:agency-change", args=[police.pk])
    seen = client.get(url).context["form"].initial["seen"]
    # Another administrator renames it after this one's form was opened.
    Agency.objects.filter(pk=police.pk).update(name="Thames Valley Police (north)")

    response = client.post(
        url,
        {
            **agency_form(name="TVP", kind=police.kind, participation=police.participation),
            "is_active": "active",
            "seen": seen,
            "confirm": "1",
        },
    )

    assert response.status_code == 409
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert "<title>Error: " in page
    assert Agency.objects.get(pk=police.pk).name == "Thames Valley Police (north)"


def test_agencies_are_never_deleted(client, administrator, police):
    client.force_login(administrator)

    page = client.get(reverse("hub-settings:agency-change", args=[police.pk])).content.decode()

    assert "Agencies are never" in page
    assert "delete" not in page.lower().replace("agencies are never deleted", "")


def test_a_saved_change_is_in_the_history_of_hub_settings(client, administrator, police):
    UserFactory.create_batch(2, agency=police)
    client.force_login(administrator)
    url = reverse("hub-settings:agency-change", args=[police.pk])
    seen = client.get(url).context["form"].initial["seen"]

    client.post(
        url,
        {
            **agency_form(name="TVP", kind=police.kind, participation=police.participation),
            "is_active": "inactive",
            "reason": "Left the hub.",
            "seen": seen,
            "confirm": "1",
        },
    )

    change = HubSettingsChange.objects.get()
    assert (change.area, change.changed_by, change.reason) == (
        HubSettingsChange.Area.AGENCIES,
        administrator,
        "Left the hub.",
    )
    assert change.changes == [
        ["Name", "Thames Valley Police", "TVP"],
        ["Status", "Active", "Inactive"],
    ]
    assert change.effect.startswith("2 people in this agency will no longer be able to sign in")
    assert (change.version_before, change.version_after) == (0, 1)
    assert change.after["id"] == police.pk


def test_a_change_needs_a_reason(client, administrator):
    client.force_login(administrator)

    response = client.post(reverse("hub-settings:agency-add"), agency_form(reason=""))

    assert 'href="#id_reason">Say why you are making this change.' in response.content.decode()
    assert not HubSettingsChange.objects.exists()
