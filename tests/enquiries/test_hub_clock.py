"""The hub's clock as configuration: defaults, the administrator's edits, caching and audit."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from agencies.models import Role
from enquiries.clock import clock_in_force
from enquiries.models import ClosureDay, HubClock, OpeningHours, RagAllowance
from enquiries.timing import recompute_behind
from enquiries.worktime import WorkingCalendar

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
CHANGE_URL = reverse("admin:enquiries_hubclock_change", args=[1])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def admin_form_data(response) -> dict[str, object]:
    """The admin change form as a browser would post it back, unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data = {}
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is False or name == "DELETE":
                continue
            data[form.add_prefix(name)] = "" if value is None else value
    return data


@pytest.fixture
def admin_client(client, make_user):
    """The Django admin is the superusers' (administrators use /hub-settings/, tested in
    tests/hub_settings); what it checks is checked here as a superuser who administers."""
    client.force_login(make_user(Role.ADMINISTRATOR, is_superuser=True))
    return client


def post_clock(admin_client, **changes):
    data = admin_form_data(admin_client.get(CHANGE_URL))
    data.update(changes)
    return admin_client.post(CHANGE_URL, data)


def test_the_default_policy_is_the_domains():
    clock = clock_in_force()

    assert {rating: a.minutes for rating, a in clock.allowances.items()} == {
        "red": 240,
        "amber": 480,
        "green": 1440,
        "none": 1440,
    }
    assert not any(a.continuous for a in clock.allowances.values())
    assert clock.at_risk_percent == 75
    assert clock.calendar == WorkingCalendar.standard()


def test_the_default_clock_gives_the_worked_example():
    sla = clock_in_force().sla(
        rating="red", received_at=at("2026-03-27T16:00"), now=at("2026-03-30T11:00")
    )

    assert sla.deadline == at("2026-03-30T12:00")
    assert (sla.elapsed, sla.remaining, sla.status) == (180, 60, "at_risk")


def test_a_continuous_red_clock_keeps_running_over_the_weekend():
    RagAllowance.objects.filter(rating="red").update(clock=RagAllowance.Clock.CONTINUOUS)
    HubClock.changed()

    sla = clock_in_force().sla(
        rating="red", received_at=at("2026-03-27T16:00"), now=at("2026-03-27T21:00")
    )

    assert sla.deadline == at("2026-03-27T20:00")
    assert (sla.elapsed, sla.status) == (300, "breached")


def test_the_clock_is_cached_until_the_configuration_changes(django_assert_num_queries):
    first = clock_in_force()

    with django_assert_num_queries(1):  # the version check only
        assert clock_in_force() is first

    ClosureDay.objects.create(date=date(2026, 6, 1), reason="Training day")

    rebuilt = clock_in_force()
    assert rebuilt is not first
    assert rebuilt.version > first.version
    assert not rebuilt.calendar.is_working_day(date(2026, 6, 1))


def test_a_database_with_no_clock_configured_says_so(django_assert_num_queries):
    clock_in_force()
    HubClock.objects.all().delete()

    with pytest.raises(HubClock.DoesNotExist, match="run the migrations"):
        with django_assert_num_queries(1):
            clock_in_force()


def test_the_clock_admin_page_is_the_superusers(client, make_user):
    client.force_login(make_user(Role.MANAGER))
    assert client.get(CHANGE_URL).status_code == 302
    client.force_login(make_user(Role.ADMINISTRATOR))
    assert client.get(CHANGE_URL).status_code == 302

    client.force_login(make_user(is_superuser=True))
    assert client.get(CHANGE_URL).status_code == 200
    listing = client.get(reverse("admin:enquiries_hubclock_changelist"))
    assert listing.status_code == 302
    assert listing.url == CHANGE_URL


def test_an_administrator_changes_hours_nation_closures_and_allowances(admin_client):
    response = post_clock(
        admin_client,
        bank_holidays="scotland",
        at_risk_percent="80",
        **{
            "openinghours_set-0-opens": "08:30",
            "closureday_set-0-date": "2026-12-29",
            "closureday_set-0-reason": "Christmas closure",
            "ragallowance_set-1-minutes": "960",
        },
    )

    assert response.status_code == 302, response.context["errors"]
    clock = clock_in_force()
    assert clock.calendar.nation == "scotland"
    assert clock.at_risk_percent == 80
    assert clock.calendar.week[0] == ((510, 1020),)
    assert date(2026, 12, 29) in clock.calendar.closures
    assert clock.allowances["amber"].minutes == 960


def test_every_change_is_recorded_with_who_and_when(admin_client):
    post_clock(admin_client, at_risk_percent="90", **{"ragallowance_set-0-minutes": "200"})

    entries = LogEntry.objects.filter(content_type__app_label="enquiries").order_by("id")
    assert [(e.content_type.model, e.action) for e in entries] == [
        ("hubclock", LogEntry.Action.UPDATE),
        ("ragallowance", LogEntry.Action.UPDATE),
    ]
    assert all(e.actor.has_role(Role.ADMINISTRATOR) for e in entries)
    assert entries[0].changes_dict["at_risk_percent"] == ["75", "90"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"openinghours_set-0-opens": "18:00"},
            "The hub must close after it opens.",
        ),
        (
            {
                "openinghours_set-5-weekday": "0",
                "openinghours_set-5-opens": "16:00",
                "openinghours_set-5-closes": "18:00",
            },
            "overlap",
        ),
        ({"closureday_set-0-date": "2101-01-04"}, "The clock covers 2000 to 2100"),
        ({"time_zone": "Europe/Atlantis"}, "is not a time zone name"),
        ({"at_risk_percent": "0"}, "greater than or equal to 1"),
        ({"at_risk_percent": "101"}, "less than or equal to 100"),
        ({"ragallowance_set-0-minutes": "0"}, "greater than or equal to 1"),
        ({"ragallowance_set-0-minutes": "-5"}, "greater than or equal to 0"),
    ],
    ids=[
        "inverted_hours",
        "overlapping_hours",
        "closure_outside_range",
        "unknown_zone",
        "no_at_risk",
        "at_risk_over_100",
        "zero_allowance",
        "negative_allowance",
    ],
)
def test_bad_configuration_gets_a_clear_error_and_changes_nothing(admin_client, changes, message):
    before = clock_in_force()

    response = post_clock(admin_client, **changes)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert clock_in_force() is before


def test_a_week_with_no_working_time_is_refused(admin_client):
    data = admin_form_data(admin_client.get(CHANGE_URL))
    for index in range(5):
        data[f"openinghours_set-{index}-DELETE"] = "on"

    response = admin_client.post(CHANGE_URL, data)

    assert response.status_code == 200
    assert "These opening hours cannot be used" in response.content.decode()
    assert OpeningHours.objects.count() == 5


def test_a_hub_open_on_saturday_mornings_counts_them(admin_client):
    response = post_clock(
        admin_client,
        **{
            "openinghours_set-5-weekday": "5",
            "openinghours_set-5-opens": "09:00",
            "openinghours_set-5-closes": "13:00",
        },
    )

    assert response.status_code == 302
    deadline = (
        clock_in_force()
        .sla(rating="red", received_at=at("2026-03-27T16:00"), now=at("2026-03-27T16:00"))
        .deadline
    )
    # 60 minutes on Friday afternoon, the other 180 on Saturday morning
    assert deadline == at("2026-03-28T12:00")


def test_a_midnight_close_means_the_end_of_the_day():
    hours = OpeningHours(weekday=0, opens=time(18, 0), closes=time(0, 0))

    assert hours.interval == (1080, 1440)


@pytest.mark.parametrize("model", ["referrertype", "outcome"])
def test_administrators_keep_the_referrer_type_and_outcome_lists(admin_client, model):
    response = admin_client.get(reverse(f"admin:enquiries_{model}_changelist"))

    assert response.status_code == 200
    assert "Police" in response.content.decode() or "No further action" in (
        response.content.decode()
    )


def test_an_administrator_adds_an_outcome_the_hub_uses(admin_client):
    from enquiries.models import Outcome

    response = admin_client.post(
        reverse("admin:enquiries_outcome_add"),
        {
            "code": "prevent",
            "name": "Referral to Prevent",
            "leads_to_referral": "on",
            "fits": "any",
            "is_active": "on",
            "position": "0",
        },
    )

    assert response.status_code == 302
    outcome = Outcome.objects.get(code="prevent")
    assert outcome.leads_to_referral
    assert outcome.fits == Outcome.Fits.ANY
    assert (
        "Children only"
        in admin_client.get(reverse("admin:enquiries_outcome_changelist")).content.decode()
    )


def test_changing_the_policy_moves_open_enquiries_deadlines_after_commit(
    admin_client, make_user, django_capture_on_commit_callbacks
):
    from enquiries import services
    from enquiries.models import Enquiry, ReferrerType
    from enquiries.services import PersonDetails

    researcher = make_user(Role.RESEARCHER)
    (enquiry,) = services.enquiry_intake(
        actor=researcher,
        received_at=at("2026-03-27T13:00"),
        referrer_name="PC Jones",
        referrer_type=ReferrerType.objects.get(code="police"),
        subjects=[PersonDetails(first_name="Ann", last_name="Smith")],
        subject_type=Enquiry.SubjectType.CHILD,
        concern="Domestic incident.",
        categories=["domestic_abuse"],
        consent=Enquiry.Consent.YES,
    )
    services.enquiry_rate(
        enquiry=enquiry, actor=researcher, rating="red", rationale="Risk.", expected_version=1
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post_clock(admin_client, **{"ragallowance_set-0-minutes": "120"})

    assert len(callbacks) == 1
    enquiry.refresh_from_db()
    assert enquiry.allowance_minutes == 120
    assert enquiry.deadline == at("2026-03-27T15:00")
    assert enquiry.breached_from == at("2026-03-27T15:01")
    assert enquiry.timing_version == HubClock.objects.get().version
    # nothing left behind the clock: a second run has nothing to do
    assert recompute_behind() == {"enquiries": 0, "information requests": 0}
