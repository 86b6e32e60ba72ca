"""The hub's clock on its settings pages: each change checked first, with what it changes and
how many open deadlines it moves, counted exactly; saved only with a reason and only if nobody
saved a change meanwhile; kept in an append-only history and in the change log."""

from datetime import date, time

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.db.utils import InternalError
from django.urls import reverse

from enquiries.clock_settings import clock_settings
from enquiries.models import ClosureDay, HubClock, HubSettingsChange, OpeningHours, RagAllowance
from mash.hub_settings.forms import AllowancesForm, OpeningHoursForm
from tests.enquiries.test_sla_scan import at

from .conftest import log_rated

pytestmark = pytest.mark.django_db

ALLOWANCES = reverse("hub-settings:allowances")
HOURS = reverse("hub-settings:opening-hours")
ADD_CLOSURE = reverse("hub-settings:add-closure-day")


def allowances_form(**changes) -> dict:
    return {**AllowancesForm.initial_for(clock_settings()), **changes}


def hours_form(**changes) -> dict:
    return {**OpeningHoursForm.initial_for(clock_settings()), **changes}


def check(client, url: str, data: dict):
    return client.post(url, data)


def save(client, url: str, data: dict, reason: str = "The new rota from April."):
    return client.post(url, {**data, "confirm": "1", "reason": reason})


@pytest.fixture
def three_open(researcher):
    """Ann is Red (240 working minutes), Bea and Cat Amber (480), all received on Friday 27
    March 2026 at 13:00."""
    return log_rated(researcher, "red", "Ann") + log_rated(researcher, "amber", "Bea", "Cat")


def test_the_check_page_says_what_changes_and_moves_exactly_the_open_amber_deadlines(
    admin_client, three_open
):
    response = check(admin_client, ALLOWANCES, allowances_form(amber_minutes="120"))

    page = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="govuk-heading-l">Check your changes</h1>' in page
    assert "<title>Check your changes" in page
    assert response.context["changes"][0].what == "Amber allowance"
    assert response.context["changes"][0].old == "480 minutes, working minutes"
    assert response.context["changes"][0].new == "120 minutes, working minutes"
    assert len(response.context["changes"]) == 1
    assert response.context["effect"] == (
        "This will move 2 open deadlines (of 3 open enquiries) and when 2 open enquiries turn "
        "at risk."
    )
    assert RagAllowance.objects.get(rating="amber").minutes == 480  # nothing saved yet


def test_a_change_of_the_at_risk_share_moves_no_deadline_but_when_they_turn_at_risk(
    admin_client, three_open
):
    response = check(admin_client, ALLOWANCES, allowances_form(at_risk_percent="50"))

    assert response.context["effect"] == (
        "This will move 0 open deadlines (of 3 open enquiries) and when 3 open enquiries turn "
        "at risk."
    )


def test_a_closure_day_after_every_deadline_moves_none(admin_client, three_open):
    response = check(
        admin_client,
        ADD_CLOSURE,
        {"version": clock_settings().version, "date": "2027-01-05", "closure_reason": "Training"},
    )

    assert response.context["effect"] == "This will move 0 open deadlines (of 3 open enquiries)."
    assert [(c.what, c.old, c.new) for c in response.context["changes"]] == [
        ("Closure day", "None", "5 January 2027 (Training)")
    ]


def test_a_closure_day_on_the_day_they_arrived_moves_them_all(admin_client, three_open):
    response = check(
        admin_client,
        ADD_CLOSURE,
        {"version": clock_settings().version, "date": "2026-03-27", "closure_reason": ""},
    )

    assert response.context["effect"] == (
        "This will move 3 open deadlines (of 3 open enquiries) and when 3 open enquiries turn "
        "at risk."
    )


def test_saving_records_who_when_why_the_versions_and_the_values(
    admin_client, administrator, three_open, django_capture_on_commit_callbacks
):
    before = clock_settings().version

    with django_capture_on_commit_callbacks() as queued:
        response = save(admin_client, ALLOWANCES, allowances_form(amber_minutes="120"))

    assert response.status_code == 302
    assert response["Location"] == reverse("hub-settings:index")
    assert RagAllowance.objects.get(rating="amber").minutes == 120
    assert len(queued) == 1  # the catch-up that moves the open deadlines
    change = HubSettingsChange.objects.get()
    assert change.area == HubSettingsChange.Area.ALLOWANCES
    assert change.changed_by == administrator
    assert change.reason == "The new rota from April."
    assert (change.version_before, change.version_after) == (before, before + 1)
    assert change.before == {
        "allowances": {
            "red": [240, "working"],
            "amber": [480, "working"],
            "green": [1440, "working"],
            "none": [1440, "working"],
        }
    }
    assert change.after["allowances"]["amber"] == [120, "working"]
    assert change.changes == [
        ["Amber allowance", "480 minutes, working minutes", "120 minutes, working minutes"]
    ]
    assert change.effect.startswith("This will move 2 open deadlines")
    entry = LogEntry.objects.get_for_model(RagAllowance).get()
    assert entry.actor == administrator
    assert entry.changes_dict["minutes"] == ["480", "120"]
    index = admin_client.get(response["Location"]).content.decode()
    assert "RAG allowances and at-risk share: your change is saved." in index


def test_without_a_reason_nothing_is_saved_and_the_check_page_says_so(admin_client):
    response = save(admin_client, ALLOWANCES, allowances_form(amber_minutes="120"), reason=" ")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Check your changes" in page
    assert '<a href="#id_reason">Enter the reason for the change</a>' in page
    assert 'id="id_reason-error"' in page
    assert RagAllowance.objects.get(rating="amber").minutes == 480
    assert not HubSettingsChange.objects.exists()


def test_a_change_saved_by_someone_else_after_the_check_is_never_overwritten(admin_client):
    checked = allowances_form(amber_minutes="120")  # at the version the check page showed
    red = RagAllowance.objects.get(rating="red")
    red.minutes = 200
    red.save()  # someone else's change, saved meanwhile

    response = save(admin_client, ALLOWANCES, checked)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Check your changes" in page
    assert "Nothing was saved" in page
    assert "Someone else changed this setting after you opened it" in page
    assert RagAllowance.objects.get(rating="amber").minutes == 480
    assert RagAllowance.objects.get(rating="red").minutes == 200
    assert not HubSettingsChange.objects.exists()


def test_change_again_shows_what_was_typed(admin_client):
    response = admin_client.post(ALLOWANCES, {**allowances_form(amber_minutes="120"), "edit": "1"})

    assert response.context["form"]["amber_minutes"].value() == "120"
    assert "Check your changes" not in response.content.decode()


def test_nothing_changed_is_an_error_on_the_form(admin_client):
    response = check(admin_client, ALLOWANCES, allowances_form())

    page = response.content.decode()
    assert "<title>Error: RAG allowances" in page
    assert "You have not changed anything: change a setting, or go back" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amber_minutes": ""}, "amber_minutes", "Enter amber allowance in minutes"),
        (
            {"amber_minutes": "four hours"},
            "amber_minutes",
            "Amber allowance in minutes must be a whole number of minutes, like 240",
        ),
        ({"red_minutes": "0"}, "red_minutes", "Red allowance in minutes must be at least 1 minute"),
        ({"green_clock": ""}, "green_clock", "Select which clock counts the Green allowance"),
        (
            {"at_risk_percent": "120"},
            "at_risk_percent",
            "The at-risk share must be between 1 and 100",
        ),
    ],
)
def test_each_allowance_error_is_specific_and_summarised(admin_client, changes, field, message):
    response = check(admin_client, ALLOWANCES, allowances_form(**changes))

    page = response.content.decode()
    assert response.context["form"].errors[field] == [message]
    assert "<title>Error: RAG allowances" in page
    assert 'class="govuk-error-summary"' in page
    assert f"{message}</a>" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"monday": "9-5"},
            "monday",
            "Enter Monday's opening hours like 09:00-17:00 "
            "(time of day '9' must look like 'HH:MM')",
        ),
        (
            {"tuesday": "17:00-09:00"},
            "tuesday",
            "Enter Tuesday's opening hours like 09:00-17:00 (17:00-09:00 closes before it opens)",
        ),
        (
            {"wednesday": "09:00-13:00, 12:00-17:00"},
            "wednesday",
            "Enter Wednesday's opening hours like 09:00-17:00 (the times overlap)",
        ),
        (
            {day: "" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
            "monday",
            "Enter the hours of at least one day",
        ),
        (
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            "Mars/Olympus is not a time zone; enter one like Europe/London",
        ),
        ({"time_zone": ""}, "time_zone", "Enter the time zone, like Europe/London"),
    ],
)
def test_each_opening_hours_error_is_specific(admin_client, changes, field, message):
    response = check(admin_client, HOURS, hours_form(**changes))

    assert response.context["form"].errors[field] == [message]
    assert "<title>Error: Opening hours" in response.content.decode()


def test_opening_hours_are_checked_then_saved(admin_client, three_open):
    data = hours_form(friday="09:00-12:00, 13:00-17:00", saturday="10:00-12:00")

    checked = check(admin_client, HOURS, data)
    saved = save(admin_client, HOURS, data)

    assert [(c.what, c.old, c.new) for c in checked.context["changes"]] == [
        ("Friday opening hours", "09:00 to 17:00", "09:00 to 12:00, 13:00 to 17:00"),
        ("Saturday opening hours", "Closed", "10:00 to 12:00"),
    ]
    # Received on Friday at 13:00, after the new lunch hour: Red is still due at 17:00, but the
    # two Amber run on over the weekend, whose Saturday morning now counts.
    assert checked.context["effect"] == (
        "This will move 2 open deadlines (of 3 open enquiries) and when 2 open enquiries turn "
        "at risk."
    )
    assert saved.status_code == 302
    assert list(
        OpeningHours.objects.filter(weekday__in=[4, 5]).values_list("weekday", "opens", "closes")
    ) == [(4, time(9), time(12)), (4, time(13), time(17)), (5, time(10), time(12))]
    assert HubSettingsChange.objects.get().area == HubSettingsChange.Area.OPENING_HOURS


def test_a_closure_day_is_added_and_removed(admin_client):
    version = clock_settings().version
    added = save(
        admin_client,
        ADD_CLOSURE,
        {"version": version, "date": "2027-01-05", "closure_reason": "Training day"},
    )
    listed = admin_client.get(reverse("hub-settings:closure-days")).content.decode()
    removal = {"version": clock_settings().version, "date": "2027-01-05"}
    checked = check(admin_client, reverse("hub-settings:remove-closure-day"), removal)
    removed = save(admin_client, reverse("hub-settings:remove-closure-day"), removal)

    assert added.status_code == 302
    assert "Tuesday 5 January 2027" in listed
    assert "Training day" in listed
    assert [(c.what, c.old, c.new) for c in checked.context["changes"]] == [
        ("Closure day", "5 January 2027 (Training day)", "Removed")
    ]
    assert removed.status_code == 302
    assert not ClosureDay.objects.exists()
    assert list(HubSettingsChange.objects.values_list("area", flat=True)) == ["closure_days"] * 2


def test_a_closure_date_must_be_real_and_in_the_clocks_years(admin_client):
    version = clock_settings().version
    missing = check(admin_client, ADD_CLOSURE, {"version": version, "date": ""})
    too_late = check(admin_client, ADD_CLOSURE, {"version": version, "date": "2101-01-01"})

    no_month = check(
        admin_client,
        ADD_CLOSURE,
        {"version": version, "date_day": "5", "date_month": "", "date_year": "2027"},
    )

    assert missing.context["form"].errors["date"] == ["Enter the date the hub is closed"]
    assert too_late.context["form"].errors["date"] == ["Enter a date from 2000 to 2100"]
    assert no_month.context["form"].errors["date"] == [
        "Date the hub is closed must include a month"
    ]
    assert 'href="#id_date_day"' in no_month.content.decode()


def test_a_closure_day_typed_as_day_month_and_year_is_checked(admin_client):
    response = check(
        admin_client,
        ADD_CLOSURE,
        {
            "version": clock_settings().version,
            "date_day": "5",
            "date_month": "1",
            "date_year": "2027",
        },
    )

    assert [(c.what, c.new) for c in response.context["changes"]] == [
        ("Closure day", "5 January 2027")
    ]


def test_bank_holidays_are_changed_through_the_check(admin_client):
    data = {"version": clock_settings().version, "bank_holidays": "scotland"}

    checked = check(admin_client, reverse("hub-settings:bank-holidays"), data)
    save(admin_client, reverse("hub-settings:bank-holidays"), data)

    assert [(c.what, c.old, c.new) for c in checked.context["changes"]] == [
        ("Bank holidays", "England and Wales", "Scotland")
    ]
    assert HubClock.objects.get().bank_holidays == "scotland"


def test_the_history_is_append_only_in_the_orm_and_in_the_database(admin_client):
    save(admin_client, ALLOWANCES, allowances_form(amber_minutes="120"))
    change = HubSettingsChange.objects.get()

    with pytest.raises(TypeError, match="append-only"):
        HubSettingsChange.objects.update(reason="Rewritten")
    with pytest.raises(TypeError, match="append-only"):
        change.delete()
    with pytest.raises(InternalError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {HubSettingsChange._meta.db_table} SET reason = 'Rewritten'")  # noqa: S608


def test_the_index_sums_up_every_setting_with_a_change_link(admin_client):
    ClosureDay.objects.create(date=date(2027, 1, 5), reason="Training")

    page = admin_client.get(reverse("hub-settings:index")).content.decode()

    assert page.count("<h1") == 1
    for name in ("opening-hours", "closure-days", "allowances", "escalation", "sharing"):
        assert f'href="{reverse(f"hub-settings:{name}")}"' in page
    assert "Monday: 09:00 to 17:00" in page
    assert "Saturday: Closed" in page
    assert "Amber: 480 minutes, working minutes" in page
    assert "5 January 2027 (Training)" in page


def test_once_saved_the_catch_up_moves_the_open_amber_deadlines_and_the_index_says_so(
    admin_client, three_open, django_capture_on_commit_callbacks
):
    ann, bea, cat = three_open

    with django_capture_on_commit_callbacks() as queued:
        save(admin_client, ALLOWANCES, allowances_form(amber_minutes="120"))
    waiting = admin_client.get(reverse("hub-settings:index")).content.decode()
    for callback in queued:
        callback()
    done = admin_client.get(reverse("hub-settings:index")).content.decode()

    # Every open enquiry is behind the new version until the catch-up has put it on every one.
    assert "3 deadlines are being updated" in waiting
    for enquiry in three_open:
        enquiry.refresh_from_db()
    assert ann.deadline == at("2026-03-27T17:00")
    assert bea.deadline == cat.deadline == at("2026-03-27T15:00")
    assert "deadlines are being updated" not in done
