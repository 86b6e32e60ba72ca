"""Hub settings: outcomes and referrer types as GOV.UK pages (issue 22 item 7). Added, renamed
and retired, never deleted; each change checked with what it affects, and never saved over
someone else's."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from agencies.models import Role, User
from enquiries.models import Enquiry, HubSettingsChange, Outcome, ReferrerType
from tests.factories import UserFactory
from tests.sharing.conftest import log_child

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(db) -> User:
    return UserFactory(roles=[Role.ADMINISTRATOR], username="ada")


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def decided_with(outcome: Outcome, count: int) -> None:
    researcher = UserFactory(roles=[Role.RESEARCHER])
    made = [log_child(researcher, f"Child{n}", "Listed", minutes_ago=30).pk for n in range(count)]
    Enquiry.objects.filter(pk__in=made).update(outcome=outcome)


def outcome_form(outcome: Outcome, client, **changes) -> dict:
    form = client.get(reverse("hub-settings:outcome-change", args=[outcome.pk])).context["form"]
    return {
        "name": outcome.name,
        "fits": outcome.fits,
        "leads_to_referral": "yes" if outcome.leads_to_referral else "no",
        "position": outcome.position,
        "is_active": "active" if outcome.is_active else "retired",
        "seen": form.initial["seen"],
        "reason": "Agreed at the hub meeting.",
        **changes,
    }


def test_the_lists_show_each_item_with_how_many_enquiries_use_it(admin_client):
    nfa = Outcome.objects.get(code="nfa")
    decided_with(nfa, 3)

    outcomes = admin_client.get(reverse("hub-settings:outcomes"))
    referrers = admin_client.get(reverse("hub-settings:referrer-types"))

    used = {item.code: item.used_by for item in outcomes.context["items"]}
    assert used["nfa"] == 3
    assert used["marac"] == 0
    assert "No further action" in outcomes.content.decode()
    assert "Member of the public" in referrers.content.decode()


@pytest.mark.parametrize("extra", [0, 15])
def test_the_lists_take_the_same_queries_however_long(
    admin_client, django_assert_max_num_queries, extra
):
    for n in range(extra):
        Outcome.objects.create(code=f"extra-{n}", name=f"Extra outcome {n}")
        ReferrerType.objects.create(code=f"extra-{n}", name=f"Extra referrer {n}")

    for name in ("hub-settings:outcomes", "hub-settings:referrer-types"):
        with django_assert_max_num_queries(7):
            assert admin_client.get(reverse(name)).status_code == 200


def test_retiring_an_outcome_says_how_many_enquiries_use_it_and_keeps_them(admin_client):
    nfa = Outcome.objects.get(code="nfa")
    decided_with(nfa, 4)
    url = reverse("hub-settings:outcome-change", args=[nfa.pk])
    data = outcome_form(nfa, admin_client, is_active="retired")

    check = admin_client.post(url, data).content.decode()
    saved = admin_client.post(url, {**data, "confirm": "1"})

    assert "Used by 4 enquiries: they keep it, and it is no longer offered for decisions." in check
    assert saved.status_code == 302
    nfa.refresh_from_db()
    assert not nfa.is_active
    assert Enquiry.objects.filter(outcome=nfa).count() == 4
    assert nfa not in Outcome.objects.filter(is_active=True)


def test_renaming_is_in_the_change_log_with_who_did_it(admin_client, administrator):
    school = ReferrerType.objects.get(code="school")
    url = reverse("hub-settings:referrer-type-change", args=[school.pk])
    seen = admin_client.get(url).context["form"].initial["seen"]
    data = {
        "name": "School or college",
        "position": 0,
        "is_active": "active",
        "seen": seen,
        "reason": "Colleges.",
    }

    check = admin_client.post(url, data).content.decode()
    admin_client.post(url, {**data, "confirm": "1"})

    assert "Used by 0 enquiries: they show the new name." in check
    school.refresh_from_db()
    assert (school.name, school.code) == ("School or college", "school")
    entry = LogEntry.objects.get_for_object(school).latest("id")
    assert entry.actor == administrator
    assert entry.changes["name"] == ["School", "School or college"]


def test_an_outcome_is_added_with_a_code_of_its_own(admin_client):
    url = reverse("hub-settings:outcome-add")
    data = {
        "name": "Early help",
        "fits": Outcome.Fits.CHILD,
        "leads_to_referral": "no",
        "position": 0,
        "reason": "New service.",
    }

    check = admin_client.post(url, data).content.decode()
    admin_client.post(url, {**data, "confirm": "1"})

    assert "It can be chosen for decisions from when it is saved." in check
    added = Outcome.objects.get(name="Early help")
    assert (added.code, added.fits, added.leads_to_referral, added.is_active) == (
        "early-help",
        Outcome.Fits.CHILD,
        False,
        True,
    )


def test_each_field_says_what_is_wrong(admin_client):
    response = admin_client.post(reverse("hub-settings:outcome-add"), {})
    taken = admin_client.post(
        reverse("hub-settings:referrer-type-add"),
        {"name": "police", "position": "0", "reason": "Again.", "confirm": "1"},
    )

    page = response.content.decode().replace("&#x27;", "'")
    assert "<title>Error: Add an outcome" in page
    assert 'href="#id_name">Enter the outcome\'s name.' in page
    assert 'href="#id_fits_0">Choose who it can be recorded for.' in page
    assert 'href="#id_leads_to_referral_0">Choose whether it counts as leading to referral.' in page
    assert "There is already one called police." in taken.content.decode()
    assert ReferrerType.objects.filter(name__iexact="police").count() == 1


def test_a_change_made_meanwhile_is_never_overwritten(admin_client):
    marac = Outcome.objects.get(code="marac")
    url = reverse("hub-settings:outcome-change", args=[marac.pk])
    data = outcome_form(marac, admin_client, name="MARAC referral")
    Outcome.objects.filter(pk=marac.pk).update(leads_to_referral=True)

    response = admin_client.post(url, {**data, "confirm": "1"})

    assert response.status_code == 409
    assert "Nothing was saved" in response.content.decode()
    marac.refresh_from_db()
    assert (marac.name, marac.leads_to_referral) == ("Domestic abuse: MARAC referral", True)


def test_nothing_on_the_lists_can_be_deleted(admin_client):
    nfa = Outcome.objects.get(code="nfa")

    page = admin_client.get(reverse("hub-settings:outcome-change", args=[nfa.pk]))

    assert "delete" not in page.content.decode().lower().replace("nothing is deleted", "")


def test_a_saved_change_is_in_the_history_of_hub_settings(admin_client, administrator):
    nfa = Outcome.objects.get(code="nfa")
    decided_with(nfa, 2)
    url = reverse("hub-settings:outcome-change", args=[nfa.pk])

    admin_client.post(url, {**outcome_form(nfa, admin_client, is_active="retired"), "confirm": "1"})

    change = HubSettingsChange.objects.get()
    assert (change.area, change.changed_by, change.reason) == (
        HubSettingsChange.Area.OUTCOMES,
        administrator,
        "Agreed at the hub meeting.",
    )
    assert change.changes == [["Status", "In use", "Retired"]]
    assert change.effect == (
        "Used by 2 enquiries: they keep it, and it is no longer offered for decisions."
    )


def test_the_position_orders_the_list_where_people_choose_one(admin_client):
    anonymous = ReferrerType.objects.get(code="anonymous")
    url = reverse("hub-settings:referrer-type-change", args=[anonymous.pk])
    seen = admin_client.get(url).context["form"].initial["seen"]
    data = {
        "name": "Anonymous",
        "position": "5",
        "is_active": "active",
        "seen": seen,
        "reason": "Rarely used: last in the list.",
    }
    in_use = ReferrerType.objects.filter(is_active=True).count()

    check = admin_client.post(url, data).content.decode()
    admin_client.post(url, {**data, "confirm": "1"})

    assert f"It is offered in place {in_use} of {in_use} where people choose one." in check
    assert list(ReferrerType.objects.filter(is_active=True))[-1] == anonymous
    assert list(ReferrerType.objects.filter(is_active=True))[0].name == "Family member"


@pytest.mark.parametrize(
    "position,message",
    [
        ("", "Enter its position in the list, like 0 or 3."),
        ("first", "Enter its position as a whole number, like 0 or 3."),
        ("-1", "Enter a position of 0 or more."),
        ("1000", "Enter a position of 999 or less."),
    ],
)
def test_the_position_says_what_is_wrong(admin_client, position, message):
    response = admin_client.post(
        reverse("hub-settings:referrer-type-add"),
        {"name": "Charity", "position": position, "reason": "New."},
    )

    assert f'href="#id_position">{message}' in response.content.decode()
