"""Every HTML form, sent empty or wrong, answers in the GOV.UK error pattern (issue 22 item 5):
"Error: " first in the title, an error summary whose every link goes to an element of the
page (the first radio or checkbox of a group, the day of a date), each message beside its
field and named by the field's `aria-describedby`, and never one of Django's generic messages.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django import forms
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agencies.forms import PasswordChangeForm, SignInForm
from core.forms import error_links, error_target_id, forms_with_errors
from core.widgets import GovukDateField
from enquiries import referrals
from enquiries.forms import IntakeForm, PersonForm
from enquiries.models import Enquiry, OnwardReferral
from reports.models import NfaReview
from sharing import domestic_abuse
from tests.bad_input.conftest import Stage, client_for
from tests.two_factor import app_for, password_only_login

pytestmark = pytest.mark.django_db

# Django's words that say nothing about what to do, and REST framework's (core.filters).
GENERIC = [
    "This field is required",
    "Enter a valid",
    "Select a valid choice",
    "Ensure this value",
    "Enter a whole number",
    "Enter a number",
    "Enter a list of values",
    "No file was submitted",
    "The submitted file is empty",
    "is not a valid choice",
    "A valid integer is required",
    "Must be a valid boolean",
]


class Page(HTMLParser):
    """What these tests read of a page: its title, ids, error summary links, error messages
    and what each element's aria-describedby names."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.title = ""
        self.ids: set[str] = set()
        self.summary_links: list[str] = []
        self.summary_items: list[str] = []
        self.error_ids: list[str] = []
        self.described: set[str] = set()
        self._in_title = False
        self._summary_depth = 0
        self._item: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if attributes.get("id"):
            self.ids.add(attributes["id"])
            if "govuk-error-message" in classes:
                self.error_ids.append(attributes["id"])
        self.described |= set((attributes.get("aria-describedby") or "").split())
        if tag == "title":
            self._in_title = True
        if "govuk-error-summary__list" in classes:
            self._summary_depth = 1
        elif self._summary_depth:
            self._summary_depth += 1
            if tag == "a":
                self.summary_links.append(attributes.get("href", ""))
            if tag == "li":
                self._item = []

    def handle_endtag(self, tag) -> None:
        if tag == "title":
            self._in_title = False
        if self._summary_depth:
            if tag == "li" and self._item is not None:
                self.summary_items.append(" ".join("".join(self._item).split()))
                self._item = None
            self._summary_depth -= 1

    def handle_data(self, data) -> None:
        if self._in_title:
            self.title += data
        if self._item is not None:
            self._item.append(data)


@dataclass(frozen=True)
class Case:
    """A form page sent something it must refuse."""

    name: str
    persona: str  # "" for someone not signed in
    url: Callable[[Stage], str]
    data: Callable[[Stage], dict] = lambda stage: {}
    method: str = "post"
    status: int = 200
    # messages the summary must hold, in its words
    expected: tuple[str, ...] = ()
    links: dict[str, str] = field(default_factory=dict)  # message -> the id it links to
    password_only: bool = False  # signed in with the password, the one-time code to come


def _enquiry(name: str, *, decided: bool = False):
    def url(stage: Stage) -> str:
        enquiry = stage.decided if decided else stage.enquiry
        return reverse(f"enquiry-{name}", args=[enquiry.reference])

    return url


def _version(*, decided: bool = False, **more):
    def data(stage: Stage) -> dict:
        enquiry = stage.decided if decided else stage.enquiry
        return {"expected_version": enquiry.version, **more}

    return data


def _subject(stage: Stage) -> str:
    enquiry = stage.enquiry
    return reverse("enquiry-person-correct", args=[enquiry.reference, enquiry.subject_id])


def _subject_versions(stage: Stage) -> dict:
    return {
        "expected_version": stage.enquiry.version,
        "expected_person_version": stage.enquiry.subject.version,
    }


def _referral_answer(stage: Stage) -> str:
    referral = referrals.refer_on(
        enquiry=stage.decided,
        actor=stage.manager,
        destination=OnwardReferral.Destination.CSC_ASSESSMENT,
        method=OnwardReferral.Method.SECURE_EMAIL,
    )
    return reverse("enquiry-referral-answer", args=[stage.decided.reference, referral.pk])


def _nfa_review(stage: Stage) -> str:
    """A review of the NFA decision for the manager, as if someone else had made it."""
    Enquiry.objects.filter(pk=stage.decided.pk).update(decided_by=stage.researcher)
    review = NfaReview.objects.create(
        enquiry=stage.decided, week_start=timezone.localdate(), drawn_at=timezone.now()
    )
    return reverse("nfa-review", args=[review.pk])


def _domestic_abuse_notification(stage: Stage) -> str:
    csv = (
        f"{','.join(domestic_abuse.COLUMNS)}\n"
        "TVP-9,2026-12-01T22:15+00:00,1 Elm Road,Shouting heard.,,victim,Vera,Victim,1990-05-01\n"
    )
    (notification,) = domestic_abuse.import_notifications(
        io.BytesIO(csv.encode()), actor=stage.police_officer
    )
    return reverse("da-notification", args=[notification.pk])


EMPTY_INTAKE = {
    "subjects-TOTAL_FORMS": "1",
    "subjects-INITIAL_FORMS": "0",
    "others-TOTAL_FORMS": "1",
    "others-INITIAL_FORMS": "0",
    "idempotency_key": "summary-test",
    "others-0-first_name": "Jo",
}

CASES = [
    Case(
        "log an enquiry",
        "researcher",
        lambda stage: reverse("enquiry-intake"),
        lambda stage: EMPTY_INTAKE,
        expected=(
            "Received: Enter the time the concern was received",
            "Referrer's name: Enter the referrer's name",
            "Type of referrer: Select the type of referrer",
            "The concern is about: Select who the concern is about",
            "Categories of concern: Choose at least one category of concern.",
            "The concern, as the referrer told it: Record the concern as the referrer told it.",
            "Was consent to share obtained?: Say whether consent to share was obtained.",
            "Name at least one child or adult the concern is about.",
            "Other person 1, part in the enquiry: Select their part in the enquiry",
            "Other person 1, last name: Enter their last name",
        ),
        links={
            "Select who the concern is about": "id_subject_type_0",
            "Choose at least one category of concern.": "id_categories_0",
            "Say whether consent to share was obtained.": "id_consent_0",
            "Enter the time the concern was received": "id_received_at",
            "Select their part in the enquiry": "id_others-0-role",
        },
    ),
    Case(
        "rate",
        "researcher",
        _enquiry("rate"),
        _version(),
        expected=("Select the RAG rating", "Give the reason for this rating."),
        links={"Select the RAG rating": "id_rating_0"},
    ),
    Case(
        "move",
        "researcher",
        _enquiry("move"),
        _version(),
        expected=("Select where to move the enquiry",),
        links={"Select where to move the enquiry": "id_to_state_0"},
    ),
    Case(
        "assign",
        "researcher",
        _enquiry("assign"),
        _version(assignee="999999"),
        expected=("Select who to assign it to from the options shown",),
    ),
    Case(
        "escalate",
        "researcher",
        _enquiry("escalate"),
        _version(),
        expected=("Say why the child or adult needs protection now.",),
    ),
    Case(
        "decide",
        "manager",
        _enquiry("decide"),
        _version(decided_at="yesterday"),
        expected=(
            "Choose the outcome.",
            "Give the reason for this decision.",
            "The time of the decision must be a real date and time",
        ),
        links={"Choose the outcome.": "id_outcome_0"},
    ),
    Case(
        "feedback",
        "researcher",
        _enquiry("feedback", decided=True),
        _version(decided=True),
        expected=("Select how the referrer was told", "Record what the referrer was told."),
    ),
    Case(
        "onward referral",
        "manager",
        _enquiry("refer", decided=True),
        _version(decided=True),
        expected=("Choose where the enquiry was referred.", "Choose how the referral was sent."),
    ),
    Case(
        "correct a person",
        "researcher",
        _subject,
        _subject_versions,
        expected=(
            "First name: Enter their first name",
            "Last name: Enter their last name",
            "Why these details are being corrected: Say why these details are being corrected.",
        ),
    ),
    Case(
        "add a person",
        "researcher",
        _enquiry("person-add"),
        _version(approximate_age="old"),
        expected=(
            "Part in the enquiry: Select their part in the enquiry",
            "Approximate age: Approximate age must be a whole number, like 7",
        ),
    ),
    Case(
        "add a child",
        "researcher",
        _enquiry("child-add"),
        _version(approximate_age="200"),
        expected=("Approximate age: Approximate age must be between 0 and 120",),
    ),
    Case(
        "correct the referral",
        "researcher",
        _enquiry("referral-correct"),
        _version(),
        expected=(
            "Referrer's name: Enter the referrer's name",
            "Type of referrer: Select the type of referrer",
        ),
    ),
    Case(
        "ask agencies for information",
        "researcher",
        _enquiry("send-requests"),
        expected=("Choose at least one agency to ask.", "Enter the question"),
    ),
    Case(
        "add a record",
        "police_officer",
        lambda stage: reverse("sharing-request-add-record", args=[stage.police_request.pk]),
        status=400,
        expected=("Choose who the information is about.", "Give a one-line summary."),
    ),
    Case(
        "ask for a release",
        "researcher",
        lambda stage: reverse("sharing-record-request-release", args=[stage.to_request.pk]),
        status=400,
        expected=("Say why the hub needs this information.",),
    ),
    Case(
        "release",
        "police_officer",
        lambda stage: reverse("sharing-record-release", args=[stage.requested.pk]),
        status=400,
        expected=(
            "Confirm that releasing this is necessary and proportionate.",
            "Choose the lawful basis for sharing.",
        ),
    ),
    Case(
        "refuse",
        "police_officer",
        lambda stage: reverse("sharing-record-refuse", args=[stage.requested.pk]),
        status=400,
        expected=("Say why your agency will not release this.",),
    ),
    Case(
        "withdraw a request",
        "researcher",
        lambda stage: reverse("sharing-request-withdraw", args=[stage.police_request.pk]),
        status=400,
        expected=("Say why the hub no longer needs this information.",),
    ),
    Case(
        "correct a record",
        "police_officer",
        lambda stage: reverse("sharing-record-correct", args=[stage.to_request.pk]),
        lambda stage: {"expected_version": stage.to_request.version},
        status=400,
        expected=("Give a one-line summary.", "Say whether the information is sensitive."),
        links={"Say whether the information is sensitive.": "id_sensitivity_0"},
    ),
    Case(
        "triage a domestic-abuse notification",
        "police_officer",
        _domestic_abuse_notification,
        lambda stage: {"expected_version": 1},
        status=400,
        expected=(
            "Choose the risk level: standard, medium or high.",
            "Choose whether to refer it to the hub.",
        ),
        links={"Choose whether to refer it to the hub.": "id_decision_0"},
    ),
    Case(
        "upload domestic-abuse notifications",
        "police_officer",
        lambda stage: reverse("da-upload"),
        status=400,
        expected=("Choose the CSV file of notifications.",),
    ),
    Case(
        "domestic-abuse queue filters",
        "police_officer",
        lambda stage: reverse("da-queue"),
        lambda stage: {"status": "lost"},
        method="get",
        status=400,
        expected=("Select a status from the options shown",),
    ),
    Case(
        "find a person",
        "researcher",
        lambda stage: reverse("people-search"),
        lambda stage: {"age": "old", "date_of_birth": "31/02/2015"},
        method="get",
        expected=(
            "The approximate age must be a whole number, like 7",
            "Date of birth must be a real date",
        ),
    ),
    Case(
        "a person's chronology filters",
        "researcher",
        lambda stage: reverse("person-detail", args=[stage.enquiry.subject_id]),
        lambda stage: {"start": "soon", "kind": "nothing"},
        method="get",
        expected=(
            "The from date must be a real date",
            "Select what happened from the options shown",
        ),
        links={"Select what happened from the options shown": "id_kind_0"},
    ),
    Case(
        "merge: choose the other record",
        "manager",
        lambda stage: reverse("person-merge", args=[stage.enquiry.subject_id]),
        lambda stage: {"other": "someone"},
        method="get",
        expected=("The other record's id must be a whole number, like 7",),
    ),
    Case(
        "notification filters",
        "researcher",
        lambda stage: reverse("notifications"),
        lambda stage: {"group": "lost"},
        method="get",
        status=400,
        expected=("Choose which notifications to show from the list.",),
    ),
    Case(
        "notifications by email",
        "researcher",
        lambda stage: reverse("notification-emails"),
        lambda stage: {"kinds": "lost"},
        expected=("Choose from the kinds of notification listed.",),
        links={"Choose from the kinds of notification listed.": "id_kinds_0"},
    ),
    Case(
        "audit log filters",
        "auditor",
        lambda stage: reverse("audit-log"),
        lambda stage: {"date_from": "yesterday", "person": "x"},
        method="get",
        expected=(
            "The from date must be a real date",
            "The person number must be a whole number, like 7",
        ),
    ),
    Case(
        "API token",
        "researcher",
        lambda stage: reverse("api-token-create"),
        status=400,
        expected=("Say what the token is for.",),
    ),
    Case(
        "change password",
        "researcher",
        lambda stage: reverse("password-change"),
        expected=("Enter your current password", "Enter a new password"),
    ),
    Case(
        "record the receiving team's answer",
        "manager",
        _referral_answer,
        lambda stage: {"expected_version": 1},
        expected=("Choose whether the referral was accepted or returned.",),
        links={"Choose whether the referral was accepted or returned.": "id_answer_0"},
    ),
    Case(
        "review a decision of no further action",
        "manager",
        _nfa_review,
        lambda stage: {"expected_version": 1},
        expected=("Say whether you agree with the decision.",),
        links={"Say whether you agree with the decision.": "id_verdict_0"},
    ),
    Case(
        "triage queue search",
        "researcher",
        lambda stage: reverse("triage-queue"),
        lambda stage: {"q": "x" * 101},
        method="get",
        expected=("Use at most 100 characters; this has 101.",),
    ),
    Case(
        "search agency information",
        "researcher",
        lambda stage: reverse("sharing-search"),
        lambda stage: {"q": "x" * 101},
        method="get",
        status=400,
        expected=("Use at most 100 characters; this has 101.",),
    ),
    Case(
        "report period",
        "analyst",
        lambda stage: reverse("report", args=["timeliness"]),
        lambda stage: {"start": "soon"},
        method="get",
        status=400,
    ),
    Case(
        "the one-time code",
        "researcher",
        lambda stage: reverse("two-factor"),
        expected=("Enter the code from your authenticator app.",),
        password_only=True,
    ),
    Case(
        "sign in",
        "",
        lambda stage: reverse("login"),
        expected=("Enter your username", "Enter your password"),
    ),
    Case(
        "set-up code",
        "",
        lambda stage: reverse("set-up-code"),
        status=400,
        expected=("Enter your username.", "Enter a new password"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_refused_form_follows_the_govuk_error_pattern(stage, case):
    if case.password_only:
        client = Client()
        user = getattr(stage, case.persona)
        app_for(user)
        password_only_login(client, user)
    else:
        client = client_for(stage, case.persona, api=False) if case.persona else Client()
    client.raise_request_exception = False

    if case.method == "post":
        # as a browser sends it: never empty, so a view's `request.POST or None` is bound
        response = client.post(case.url(stage), {"csrfmiddlewaretoken": "-"} | case.data(stage))
    else:
        response = client.get(case.url(stage), case.data(stage))

    assert response.status_code == case.status, response.content.decode()[:3000]
    page = Page(response.content.decode())
    assert page.title.startswith("Error: "), page.title
    assert page.summary_items, "an error summary"
    for expected in case.expected:
        assert any(expected in item for item in page.summary_items), (expected, page.summary_items)
    for href in page.summary_links:
        assert href.startswith("#") and href[1:] in page.ids, (href, page.summary_items)
    for message, target in case.links.items():
        pairs = zip(page.summary_links, page.summary_items, strict=True)
        linked = [href for href, item in pairs if message in item]
        assert linked == [f"#{target}"], (message, linked)
    for item in page.summary_items:
        assert not any(generic in item for generic in GENERIC), item
    for error_id in page.error_ids:
        assert error_id.endswith("-error")
        assert error_id in page.described, f"{error_id} is named by no aria-describedby"


def test_a_page_without_errors_has_no_error_in_its_title(stage):
    client = client_for(stage, "researcher", api=False)

    page = Page(client.get(reverse("enquiry-intake")).content.decode())

    assert page.title.startswith("Log an enquiry")
    assert page.summary_items == []


def test_adding_a_row_at_intake_shows_no_errors_nor_error_in_the_title(stage):
    client = client_for(stage, "researcher", api=False)

    response = client.post(reverse("enquiry-intake"), EMPTY_INTAKE | {"add_subject": "1"})

    page = Page(response.content.decode())
    assert page.title.startswith("Log an enquiry")
    assert page.summary_items == []


# The id an error summary links to, by widget.


class Widgets(forms.Form):
    text = forms.CharField()
    area = forms.CharField(widget=forms.Textarea)
    choice = forms.ChoiceField(choices=[("a", "A")])
    radios = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(choices=[("a", "A")], widget=forms.CheckboxSelectMultiple)
    tick = forms.BooleanField()
    split = forms.SplitDateTimeField()
    day = GovukDateField(label="Date from")
    hidden = forms.CharField(widget=forms.HiddenInput)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("text", "id_text"),
        ("area", "id_area"),
        ("choice", "id_choice"),
        ("radios", "id_radios_0"),
        ("boxes", "id_boxes_0"),
        ("tick", "id_tick"),
        ("split", "id_split_0"),
        ("day", "id_day_day"),
        ("hidden", "id_hidden"),
    ],
)
def test_the_error_target_is_the_first_input_of_the_widget(name, target):
    assert error_target_id(Widgets()[name]) == target


def test_the_error_target_follows_a_prefix_and_is_empty_without_ids():
    assert error_target_id(Widgets(prefix="row-2")["radios"]) == "id_row-2-radios_0"
    assert error_target_id(Widgets(auto_id=False)["radios"]) == ""


def test_a_whole_form_error_and_a_hidden_fields_link_to_the_first_field():
    form = Widgets(data={"hidden": ""})
    form.add_error(None, "These do not go together.")

    lines = [(target, message) for target, _, message in error_links(form)]

    assert lines[0] == ("id_text", "These do not go together.")
    assert ("id_radios_0", "This field is required.") in lines
    assert ("id_text", "This field is required.") in lines  # the hidden field, plain Django


def test_only_bound_forms_with_errors_count_and_lazy_values_are_left_alone():
    class Lazy:
        def __getattr__(self, name):
            raise AssertionError("evaluated")

    assert forms_with_errors({"form": Widgets(), "lazy": Lazy()}) is False
    assert forms_with_errors({"forms": {"release": Widgets(data={})}}) is True
    assert forms_with_errors({"rows": [Widgets(data={})]}) is True


# The messages, as they read.


def test_messages_name_the_field_in_the_govuk_way():
    form = IntakeForm(data={"received_at": "soon", "referrer_type": "999"})

    assert form.errors["received_at"] == [
        "The time the concern was received must be a real date and time"
    ]
    assert form.errors["referrer_name"] == ["Enter the referrer's name"]
    assert form.errors["referrer_type"] == ["Select the type of referrer from the options shown"]
    assert form.errors["subject_type"] == ["Select who the concern is about"]
    # a form's own message is kept
    assert form.errors["categories"] == ["Choose at least one category of concern."]


def test_a_label_reads_as_the_object_of_a_sentence_unless_named():
    person = PersonForm(data={"nhs_number": "1", "approximate_age": "-1"}, today=None)

    assert person.errors["first_name"] == ["Enter their first name"]
    assert person.errors["approximate_age"] == ["Approximate age must be between 0 and 120"]


def test_django_forms_say_what_to_do_too():
    assert SignInForm(data={}).errors == {
        "username": ["Enter your username"],
        "password": ["Enter your password"],
    }
    change = PasswordChangeForm(user=None, data={})
    assert change.errors["old_password"] == ["Enter your current password"]
    assert change.errors["new_password2"] == ["Enter the new password again"]


# The title.


@pytest.mark.parametrize(
    ("context", "title"),
    [
        ({}, "Audit log"),
        ({"form": Widgets(data={})}, "Error: Audit log"),
        ({"form": Widgets()}, "Audit log"),
        ({"forms": {"release": Widgets(data={})}}, "Error: Audit log"),
        ({"stale": {"changes": ["rated red"]}}, "Error: Audit log"),
        ({"checking": True}, "Error: Audit log"),
        ({"form": Widgets(data={}), "hide_errors": True}, "Audit log"),
    ],
    ids=["none", "form", "unbound", "one of several", "stale", "checking", "hidden errors"],
)
def test_the_title_says_error_whenever_the_page_shows_one(context, title):
    template = Template("{% load govuk %}{% error_title %}Audit log")

    assert template.render(Context(context)) == title
