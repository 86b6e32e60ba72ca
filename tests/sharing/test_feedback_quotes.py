"""Feedback to the referrer may not quote a record its writer can read; a guess at a record
they cannot read is taken like any other text, so the check tells them nothing. A refusal
names the record and is logged, on the page and over the API."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from audit.models import AccessLogEntry
from enquiries import services as enquiry_services
from enquiries.models import Enquiry, Outcome
from sharing import firewall, quotes, services
from sharing.models import InformationRecord, LawfulBasis, Sensitivity
from tests.factories import PASSWORD

from .conftest import Hub

pytestmark = pytest.mark.django_db

Log = AccessLogEntry.Action
REASON = "Feedback to the referrer quoted this record; refused."

ARREST = "Father was arrested for assault on the mother in January."
# The same sentence, one word short, with a zero-width space inside a word and another case.
ARREST_QUOTED = "Outcome: NFA. Police say father was arr\u200bested for ASSAULT on the mother in"
ARREST_REFUSAL = (
    "This repeats Thames Valley Police's information about Amy Firewall, recorded on "
    "3 March 2026 (“father was arrested for assault on the mother in”): feedback to the "
    "referrer gives the outcome and next steps only."
)
# A guess at a hidden record that is wrong: it shares no run of words with it.
WRONG_GUESS = "Outcome: NFA. Police say mother was seen with bruises at the park in May"
FEEDBACK = "No further action by the hub; the school will keep watching and refer again."


class Undo(Exception):
    """Raised to roll a try back, so the next starts from the same state."""


def add_record(
    hub: Hub,
    *,
    detail: str,
    summary: str = "Police contact with the family",
    sensitive: bool = False,
    released: bool = False,
    conditions: str = "",
) -> InformationRecord:
    record = services.add_information_record(
        request=hub.police_request,
        actor=hub.police_officer,
        person=hub.enquiry.subject,
        summary=summary,
        detail=detail,
        source_system="Niche RMS",
        information_date=date(2026, 3, 3),
        sensitivity=Sensitivity.SENSITIVE if sensitive else Sensitivity.NON_SENSITIVE,
    )
    if released:
        services.request_release(
            record_pk=record.pk, actor=hub.researcher, reason="Needed to assess the risk."
        )
        services.release_record(
            record_pk=record.pk,
            actor=hub.police_officer,
            reason="Pertinent to the risk assessment.",
            necessary_and_proportionate=True,
            lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
            password=PASSWORD,
            conditions=conditions,
        )
    record.refresh_from_db()
    return record


def decide(hub: Hub) -> Enquiry:
    return enquiry_services.enquiry_decide(
        enquiry=hub.enquiry,
        actor=hub.manager,
        outcome=Outcome.objects.get(code="nfa"),
        rationale="No role for the hub.",
        expected_version=hub.enquiry.version,
        decided_at=timezone.now() - timedelta(minutes=1),
    )


def give_feedback(hub: Hub, enquiry: Enquiry, text: str) -> Enquiry:
    return enquiry_services.enquiry_record_feedback(
        enquiry=enquiry,
        actor=hub.researcher,
        method="Telephone",
        text=text,
        expected_version=enquiry.version,
    )


def refusals(**fields) -> list[tuple]:
    entries = AccessLogEntry.objects.filter(action=Log.DENIED, **fields)
    return list(entries.values_list("user__username", "channel", "record_id", "reason"))


def test_quoting_a_released_record_is_refused_naming_it_and_logged(hub):
    record = add_record(hub, detail=ARREST, sensitive=True, released=True)
    enquiry = decide(hub)

    with pytest.raises(ValidationError) as refused:
        give_feedback(hub, enquiry, ARREST_QUOTED)

    assert refused.value.message_dict == {"text": [ARREST_REFUSAL]}
    enquiry.refresh_from_db()
    assert (enquiry.state, enquiry.version, enquiry.feedback_text) == (
        Enquiry.State.DECIDED,
        2,
        "",
    )
    assert refusals() == [("researcher", "page", record.pk, REASON)]


def test_with_no_check_registered_feedback_is_refused_not_sent_unchecked(hub, monkeypatch):
    """The quote check is sharing's, registered at start-up (enquiries.hooks): without it the
    service fails closed, as the firewall's gate does."""
    from enquiries import hooks

    add_record(hub, detail=ARREST, sensitive=True, released=True)
    enquiry = decide(hub)
    monkeypatch.setattr(hooks, "feedback_checks", [])

    with pytest.raises(ImproperlyConfigured):
        give_feedback(hub, enquiry, ARREST_QUOTED)
    enquiry.refresh_from_db()
    assert enquiry.state == Enquiry.State.DECIDED


@pytest.mark.parametrize(
    ("fields", "feedback", "quoted"),
    [
        (
            {"detail": ARREST},
            "Police said father was arrested for assault on the mother.",
            "father was arrested for assault on the mother",
        ),
        (
            {"detail": "Nothing of note.", "summary": "Subject of a live investigation"},
            "We cannot say more: he is the subject of a live investigation.",
            "subject of a live investigation",
        ),
        (
            {
                "detail": "Nothing of note.",
                "sensitive": True,
                "released": True,
                "conditions": "Not to be shared with the family or the school.",
            },
            "Please note this is not to be shared with the family.",
            "not to be shared with the family",
        ),
    ],
    ids=["non-sensitive detail", "whole short summary", "release conditions"],
)
def test_every_readable_part_of_a_record_counts(hub, fields, feedback, quoted):
    record = add_record(hub, **fields)
    enquiry = decide(hub)

    with pytest.raises(ValidationError, match=f"“{quoted}”") as refused:
        give_feedback(hub, enquiry, feedback)

    assert "Thames Valley Police's information" in refused.value.messages[0]
    assert refusals(record=record) == [("researcher", "page", record.pk, REASON)]


def test_five_words_of_a_record_are_accepted(hub):
    add_record(hub, detail=ARREST)
    enquiry = decide(hub)

    closed = give_feedback(hub, enquiry, "The father was arrested for assault; NFA by the hub.")

    assert closed.state == Enquiry.State.CLOSED
    assert refusals() == []


def outcome_of(hub: Hub, enquiry: Enquiry, text: str) -> tuple:
    """What the writer learns from trying `text`, and what it leaves behind; rolled back."""
    try:
        with transaction.atomic():
            try:
                closed = give_feedback(hub, enquiry, text)
            except ValidationError as error:
                result = ("refused", error.message_dict)
            else:
                result = ("closed", closed.state, closed.version)
            result += (refusals(),)
            raise Undo(result)
    except Undo as undo:
        return undo.args[0]


def test_a_right_guess_at_a_hidden_record_is_answered_as_a_wrong_one(hub):
    # given a sensitive record that the researcher may not read
    hidden = add_record(hub, detail=ARREST, sensitive=True)
    enquiry = decide(hub)
    # the guess is right: its owning agency's practitioner would be refused it
    assert firewall.quoted_record(hub.police_officer, enquiry, ARREST_QUOTED).record.pk == hidden.pk

    # when the researcher tries the right guess and a wrong one
    right = outcome_of(hub, enquiry, ARREST_QUOTED)
    wrong = outcome_of(hub, enquiry, WRONG_GUESS)

    # then both are taken alike, and nothing names the record
    assert right == wrong == ("closed", Enquiry.State.CLOSED, 3, [])


def test_only_records_the_writer_may_read_count(hub):
    enquiry = decide(hub)
    hidden = add_record(hub, detail=ARREST, sensitive=True)
    checks = {
        "police officer (own agency)": hub.police_officer,
        "health visitor (another agency)": hub.health_visitor,
        "researcher": hub.researcher,
        "manager": hub.manager,
        "analyst": hub.analyst,
    }

    quoted = {
        name: getattr(firewall.quoted_record(user, enquiry, ARREST_QUOTED), "record", None)
        for name, user in checks.items()
    }

    assert {name: getattr(record, "pk", None) for name, record in quoted.items()} == {
        "police officer (own agency)": hidden.pk,
        "health visitor (another agency)": None,
        "researcher": None,
        "manager": None,
        "analyst": None,
    }
    # what a reader is shown of the record they quoted is theirs to read
    assert quoted["police officer (own agency)"].detail == ARREST


def test_hidden_content_never_reaches_the_comparison(hub, monkeypatch, django_assert_num_queries):
    enquiry = decide(hub)
    add_record(hub, detail=ARREST, sensitive=True)
    add_record(hub, detail="Nothing of note.", summary="Attended once in 2024")
    compared = []
    repeated = quotes.repeated

    def spy(said, source):
        compared.append(source)
        return repeated(said, source)

    monkeypatch.setattr(quotes, "repeated", spy)

    # the person's roles (read once a request), then the records they may read, however many
    # the enquiry holds
    with django_assert_num_queries(2):
        assert firewall.quoted_record(hub.researcher, enquiry, ARREST_QUOTED) is None

    assert compared == ["Attended once in 2024", "Nothing of note.", ""]


# Over the page and the API.


def page_post(client, enquiry: Enquiry, text: str):
    return client.post(
        reverse("enquiry-feedback", args=[enquiry.reference]),
        {
            "method": "Telephone",
            "sent_at": "",
            "text": text,
            "expected_version": enquiry.version,
        },
    )


def api_post(hub: Hub, enquiry: Enquiry, text: str):
    api = APIClient()
    api.force_authenticate(hub.researcher)
    return api.post(
        reverse("api:enquiry-feedback", args=[enquiry.reference]),
        {"method": "Telephone", "text": text, "expected_version": enquiry.version},
        format="json",
    )


def test_the_page_shows_the_refusal_on_the_field_and_keeps_the_text(client, hub):
    record = add_record(hub, detail=ARREST, sensitive=True, released=True)
    enquiry = decide(hub)
    client.force_login(hub.researcher)

    response = page_post(client, enquiry, ARREST_QUOTED)

    assert response.status_code == 200
    html = response.content.decode()
    assert escape(ARREST_REFUSAL) in html
    assert escape(ARREST_QUOTED) in html
    enquiry.refresh_from_db()
    assert enquiry.state == Enquiry.State.DECIDED
    assert refusals() == [("researcher", "page", record.pk, REASON)]


def test_the_api_refuses_on_text_with_400(hub):
    record = add_record(hub, detail=ARREST, sensitive=True, released=True)
    enquiry = decide(hub)

    response = api_post(hub, enquiry, ARREST_QUOTED)

    assert response.status_code == 400
    assert response.json() == {"text": [ARREST_REFUSAL]}
    enquiry.refresh_from_db()
    assert enquiry.state == Enquiry.State.DECIDED
    assert refusals() == [("researcher", "api", record.pk, REASON)]


def test_a_guess_at_a_hidden_record_gets_the_same_responses_as_any_text(client, hub):
    add_record(hub, detail=ARREST, sensitive=True)
    enquiry = decide(hub)
    client.force_login(hub.researcher)

    def responses(text: str) -> tuple:
        try:
            with transaction.atomic():
                page = page_post(client, enquiry, text)
                raise Undo(page.status_code, page.headers.get("Location"))
        except Undo as undo:
            on_page = undo.args
        try:
            with transaction.atomic():
                api = api_post(hub, enquiry, text)
                body = {key: value for key, value in api.json().items() if key != "feedback_text"}
                raise Undo(api.status_code, body["state"], body["version"])
        except Undo as undo:
            over_api = undo.args
        return on_page, over_api, refusals()

    assert (
        responses(ARREST_QUOTED)
        == responses(WRONG_GUESS)
        == ((302, enquiry.get_absolute_url()), (200, "closed", 3), [])
    )
