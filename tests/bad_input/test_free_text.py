"""Every free-text field of every form and API write, and every filter: a value over its
limit, and each control character, is refused with a message on that field naming the limit
or the character, never a 500, with nothing saved and, on a page, everything typed still in
the form. A value at the limit is saved (the database takes what the form allows)."""

import pytest
from django.urls import reverse

from core.text import TEXT_LIMIT
from tests.bad_input.conftest import (
    FILTERS,
    WRITE_FIELDS,
    client_for,
    error_at,
    intake_json,
    send,
    snapshot,
)

pytestmark = pytest.mark.django_db

# The refused characters but NUL, which every field is sent, spread over the fields so that
# each is sent somewhere.
CONTROL = ["\x01", "\x07", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f", "\x7f"]


def too_long(limit: int) -> str:
    return f"Use at most {limit:,} characters; this has {limit + 1:,}."


def control(char: str) -> str:
    return (
        f"Remove the invisible control character (U+{ord(char):04X}) at character 7: text "
        "may hold tabs and line breaks, but no other control characters."
    )


def field_error(field: str, message: str, *, error_id: str = "") -> str:
    """A message as includes/form_field.html puts it under its field."""
    return (
        f'id="{error_id or "id_" + field}-error"><span class="govuk-visually-hidden">Error:'
        f"</span> {message}</p>"
    )


def ids(case) -> str:
    write, field = case
    return f"{write.name}: {field}"


def assert_refused_on_field(response, write, field: str, value: str, message: str) -> None:
    assert response.status_code != 500
    if write.api:
        assert response.status_code == 400, response.content
        assert error_at(response.json(), field) == [message]
    else:
        assert response.status_code in (200, 400)
        html = response.content.decode()
        assert field_error(field, message) in html
        assert value in html, "what was typed is shown again"


@pytest.mark.parametrize("case", WRITE_FIELDS, ids=ids)
def test_a_value_over_the_limit_is_refused_on_its_field_and_nothing_is_saved(stage, case):
    write, field = case
    limit = write.fields[field]
    value = "x" * (limit + 1)
    before = snapshot()

    response = send(stage, write, field, value)

    assert_refused_on_field(response, write, field, value, too_long(limit))
    assert snapshot() == before


@pytest.mark.parametrize("case", WRITE_FIELDS, ids=ids)
def test_a_value_at_the_limit_is_saved(stage, case):
    write, field = case
    limit = write.fields[field]
    # A spaced NHS number is twelve characters, and valid.
    value = "943 476 5919" if field.endswith("nhs_number") else "x" * limit

    response = send(stage, write, field, value)

    assert response.status_code in ((200, 201) if write.api else (302,)), response.content


@pytest.mark.parametrize(
    "case, other",
    [(case, CONTROL[n % len(CONTROL)]) for n, case in enumerate(WRITE_FIELDS)],
    ids=lambda value: ids(value) if isinstance(value, tuple) else f"U+{ord(value):04X}",
)
def test_a_control_character_is_refused_on_its_field_and_nothing_is_saved(stage, case, other):
    """NUL in every field (PostgreSQL cannot store it: unchecked, it is a 500, not a message),
    and one of the other refused characters."""
    write, field = case
    client = client_for(stage, write.persona, api=write.api)
    before = snapshot()

    for char in ("\x00", other):
        value = f"Before{char}after"
        response = send(stage, write, field, value, client=client)

        assert_refused_on_field(response, write, field, value, control(char))
    assert snapshot() == before


def test_tabs_and_line_breaks_are_text_and_kept(stage):
    write = next(write for write, _ in WRITE_FIELDS if write.name == "rate API")
    text = "First line\r\nSecond\tcolumn\rthird"

    response = send(stage, write, "rationale", text)

    assert response.status_code == 200
    stage.enquiry.refresh_from_db()
    # Stored with "\n" line breaks, as a browser's "\r\n" would count twice against a limit.
    assert stage.enquiry.rating_rationale == "First line\nSecond\tcolumn\nthird"


def test_a_lone_surrogate_in_json_is_refused_on_its_field(stage):
    client = client_for(stage, "researcher", api=True)
    body = '{"reason": "Before\\ud800after"}'

    response = client.post(
        f"/api/v1/enquiries/{stage.enquiry.reference}/escalate/",
        body,
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"reason": [control("\ud800")]}


@pytest.mark.parametrize("kind", ["too long", "control character"])
@pytest.mark.parametrize("flt", FILTERS, ids=lambda flt: flt.name)
def test_a_filter_over_its_limit_or_with_a_control_character_says_so_on_the_field(stage, flt, kind):
    value = "x" * (flt.limit + 1) if kind == "too long" else "Before\x07after"
    message = too_long(flt.limit) if kind == "too long" else control("\x07")
    client = client_for(stage, flt.persona, api=flt.api)

    response = client.get(flt.url(), {**flt.others, flt.field: value})

    assert response.status_code == flt.status
    if flt.api:
        assert response.json() == {flt.field: [message]}
    else:
        html = response.content.decode()
        assert field_error(flt.field, message, error_id=flt.error_id) in html
        assert f'value="{value}"' in html


@pytest.mark.parametrize(
    "persona, url, field",
    [
        ("researcher", "enquiry-move", "to_state"),
        ("researcher", "enquiry-assign", "assignee"),
        ("researcher", "api:enquiry-transition", "to_state"),
        ("researcher", "api:enquiry-assign", "assignee"),
        ("researcher", "enquiry-rate", "rating"),
        ("manager", "api:enquiry-decide", "outcome"),
    ],
)
@pytest.mark.parametrize("value", ["x" * (TEXT_LIMIT + 1), "screening\x00"])
def test_a_choice_given_junk_is_a_message_not_an_error(stage, persona, url, field, value):
    api = url.startswith("api:")
    client = client_for(stage, persona, api=api)
    body = {"expected_version": stage.enquiry.version, field: value}
    before = snapshot()

    response = client.post(
        reverse(url, args=[stage.enquiry.reference]), body, **({"format": "json"} if api else {})
    )

    assert response.status_code == (400 if api else 200)
    if api:
        assert field in response.json()
    else:
        assert f'id="id_{field}-error"' in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    "key, message",
    [("k" * 201, too_long(200)), ("Before\x00after", control("\x00"))],
    ids=["too long", "NUL"],
)
def test_an_idempotency_key_is_held_to_the_same_rules(stage, key, message):
    client = client_for(stage, "researcher", api=True)
    before = snapshot()

    response = client.post(
        reverse("api:enquiry-list"), intake_json(stage), format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 400
    assert response.json() == {"Idempotency-Key": [message]}
    assert snapshot() == before


@pytest.mark.parametrize("value", ["x" * (TEXT_LIMIT + 1), "2026-01-01\x07"])
def test_a_report_period_given_junk_is_a_message(stage, value):
    client = client_for(stage, "manager", api=False)

    response = client.get(reverse("report", args=["volumes"]), {"start": value, "to": value})

    assert response.status_code == 400
    assert field_error("start", "Date from must be a real date") in response.content.decode()
