"""The GOV.UK date input (core/widgets.py): what it accepts, what it says, how it draws."""

from datetime import date

import pytest
from django import forms

from core.widgets import GovukDateField


class PeriodForm(forms.Form):
    start = GovukDateField(label="Date from")
    end = GovukDateField(label="Until", name="End date", required=False)


def typed(day: str, month: str, year: str, name: str = "start") -> dict[str, str]:
    return {f"{name}_day": day, f"{name}_month": month, f"{name}_year": year}


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("27", "3", "2026", date(2026, 3, 27)),
        ("01", "03", "2026", date(2026, 3, 1)),  # leading zeros
        (" 7 ", "\t11", "2026 ", date(2026, 11, 7)),  # whitespace around each part
        ("29", "2", "2028", date(2028, 2, 29)),  # a leap year
        ("31", "12", "1999", date(1999, 12, 31)),
    ],
)
def test_it_takes_a_real_date(day, month, year, expected):
    form = PeriodForm(typed(day, month, year))

    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"start": expected, "end": None}


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("", "", "", "Enter the date from"),
        ("  ", " ", "", "Enter the date from"),
        ("1", "", "2026", "Date from must include a month"),
        ("", "3", "2026", "Date from must include a day"),
        ("1", "3", "", "Date from must include a year"),
        ("", "", "2026", "Date from must include a day and month"),
        ("1", "", "", "Date from must include a month and year"),
        ("29", "2", "2027", "Date from must be a real date"),  # not a leap year
        ("31", "4", "2026", "Date from must be a real date"),
        ("1", "13", "2026", "Date from must be a real date"),
        ("0", "3", "2026", "Date from must be a real date"),
        ("1st", "March", "2026", "Date from must be a real date"),
        ("-1", "3", "2026", "Date from must be a real date"),
        ("١", "3", "2026", "Date from must be a real date"),  # a digit, but not 0-9
        ("1", "3", "26", "Date from must include the year as 4 numbers"),
    ],
)
def test_it_says_what_is_wrong_in_the_govuk_words(day, month, year, message):
    form = PeriodForm(typed(day, month, year))

    assert not form.is_valid()
    assert form.errors == {"start": [message]}


def test_an_optional_date_left_empty_is_none_and_named_as_asked():
    form = PeriodForm(typed("1", "3", "2026") | typed("", "", "", "end"))
    assert form.is_valid()
    assert form.cleaned_data["end"] is None

    form = PeriodForm(typed("1", "3", "2026") | typed("", "4", "2026", "end"))
    assert form.errors == {"end": ["End date must include a day"]}


def test_it_still_reads_the_single_iso_date_of_older_links():
    form = PeriodForm({"start": "2026-11-01"})
    assert form.is_valid() and form.cleaned_data["start"] == date(2026, 11, 1)

    form = PeriodForm({"start": "2026-02-30"})
    assert form.errors == {"start": ["Date from must be a real date"]}
    # The boxes win when both are sent.
    form = PeriodForm({"start": "2026-11-01"} | typed("2", "11", "2026"))
    assert form.is_valid() and form.cleaned_data["start"] == date(2026, 11, 2)


def test_labels_and_error_summaries_lead_to_the_day():
    form = PeriodForm()

    assert form["start"].id_for_label == "id_start_day"
    assert form["start"].widget_type == "govukdate"


def test_it_draws_the_whole_component_with_what_was_typed():
    html = str(PeriodForm(typed("5", "", "2026"))["start"])

    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Date from' in html
    assert '<div class="govuk-hint" id="id_start-hint">For example, 27 3 2026</div>' in html
    assert 'aria-describedby="id_start-hint id_start-error"' in html
    assert "Date from must include a month" in html
    assert 'id="id_start_day" name="start_day" type="text" inputmode="numeric" value="5"' in html
    assert 'govuk-input--error" id="id_start_month" name="start_month"' in html
    assert 'govuk-input--width-4" id="id_start_year" name="start_year"' in html
    assert 'type="date"' not in html


def test_an_unbound_form_shows_the_initial_date_as_people_write_it():
    html = str(PeriodForm(initial={"start": date(2026, 3, 9)})["start"])

    assert 'name="start_day" type="text" inputmode="numeric" value="9"' in html
    assert 'name="start_month" type="text" inputmode="numeric" value="3"' in html
    assert 'name="start_year" type="text" inputmode="numeric" value="2026"' in html
    assert "govuk-form-group--error" not in html


def test_a_page_that_draws_its_own_label_gets_the_three_boxes_alone():
    # As includes/form_field.html does, through its `govuk_widget` tag.
    html = PeriodForm(typed("1", "", "2026"))["start"].as_widget(
        attrs={"class": "govuk-input govuk-input--error"}
    )

    assert "<fieldset" not in html and "<legend" not in html
    assert html.count('class="govuk-input govuk-date-input__input') == 3
    assert html.count("govuk-input--error") == 3
    assert 'id="id_start_day" name="start_day"' in html


def test_it_knows_when_nothing_was_sent_and_when_the_date_changed():
    widget = PeriodForm().fields["start"].widget

    assert widget.value_omitted_from_data({}, {}, "start")
    assert not widget.value_omitted_from_data({"start_year": ""}, {}, "start")
    assert not widget.value_omitted_from_data({"start": "2026-01-01"}, {}, "start")
    form = PeriodForm(typed("1", "3", "2026"), initial={"start": date(2026, 3, 1)})
    assert form.changed_data == []
    form = PeriodForm(typed("2", "3", "2026"), initial={"start": date(2026, 3, 1)})
    assert form.changed_data == ["start"]
