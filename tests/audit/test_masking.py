"""The change log cannot rebuild what the firewall hides.

Auditors read the change log; they may not read agency information, nor work on enquiries.
Every free-text field of a registered model is listed below with what the log keeps of it and
why, so a new free-text field fails `test_every_free_text_field_has_a_decision` until someone
decides. Masked fields keep only whether there was text (core.request_context.withhold): the
log still says that the field changed, when and by whom.
"""

import pytest
from auditlog.context import set_actor
from auditlog.diff import get_mask_function
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.db import models
from django.urls import reverse

from core.request_context import WITHHELD, withhold
from enquiries import services as enquiry_services
from enquiries.models import Outcome
from sharing import services
from sharing.models import InformationRecord, Sensitivity

from .conftest import release

pytestmark = pytest.mark.django_db

MASKED = "masked"
EXCLUDED = "excluded"
READABLE = "readable"

CONFIGURATION = "configuration the administrator edits, no case content"
STAFF = "the hub's staff directory, no case content"
INTAKE = (
    "written at the front door from the referrer's account, before any agency is asked, and "
    "never edited: it cannot carry agency information, and auditors check who changed it"
)

FREE_TEXT = {
    "agencies.Agency.name": (READABLE, CONFIGURATION),
    "agencies.User.username": (READABLE, STAFF),
    "agencies.User.first_name": (READABLE, STAFF),
    "agencies.User.last_name": (READABLE, STAFF),
    "agencies.User.email": (READABLE, STAFF),
    "agencies.User.job_title": (READABLE, STAFF),
    "agencies.User.password": (MASKED, "a hash; the log says the password changed, and who did"),
    "agencies.AccessChange.reason": (
        READABLE,
        "why an administrator asked for someone's access: about the hub's staff, no case content",
    ),
    "agencies.AccessChange.decision_note": (
        READABLE,
        "the second administrator's answer, as reason",
    ),
    "enquiries.HubClock.time_zone": (READABLE, CONFIGURATION),
    "enquiries.ClosureDay.reason": (READABLE, CONFIGURATION),
    "enquiries.ReferrerType.code": (READABLE, CONFIGURATION),
    "enquiries.ReferrerType.name": (READABLE, CONFIGURATION),
    "enquiries.Outcome.code": (READABLE, CONFIGURATION),
    "enquiries.Outcome.name": (READABLE, CONFIGURATION),
    "enquiries.Person.first_name": (
        READABLE,
        "the hub's own person register, kept by researchers, not agency information; "
        "auditors check who changed a person's details",
    ),
    "enquiries.Person.last_name": (READABLE, "as first_name"),
    "enquiries.Person.address": (READABLE, "as first_name"),
    "enquiries.Person.nhs_number": (READABLE, "as first_name"),
    "enquiries.PersonAlias.first_name": (READABLE, "as Person.first_name: another name of theirs"),
    "enquiries.PersonAlias.last_name": (READABLE, "as Person.first_name: another name of theirs"),
    "enquiries.Enquiry.reference": (READABLE, "a reference number"),
    "enquiries.Enquiry.referrer_name": (READABLE, INTAKE),
    "enquiries.Enquiry.referrer_organisation": (READABLE, INTAKE),
    "enquiries.Enquiry.referrer_contact": (READABLE, INTAKE),
    "enquiries.Enquiry.concern": (READABLE, INTAKE),
    "enquiries.Enquiry.consent_reason": (READABLE, INTAKE),
    "enquiries.Enquiry.rating_rationale": (
        MASKED,
        "a rating may be changed once agencies have answered, and its reason may quote what "
        "an agency released to the people working on the enquiry",
    ),
    "enquiries.Enquiry.decision_rationale": (
        MASKED,
        "the manager decides on the full picture, released agency information included",
    ),
    "enquiries.Enquiry.feedback_method": (READABLE, "how the referrer was told: phone, email"),
    "enquiries.Enquiry.feedback_text": (
        READABLE,
        "what left the hub for the referrer (docs/domain.md 6: never agency information the "
        "referrer may not see); a disclosure is exactly what auditors must be able to check",
    ),
    "enquiries.OnwardReferral.team": (READABLE, "the name of the team the hub referred to"),
    "enquiries.OnwardReferral.answered_by_name": (
        READABLE,
        "who in the receiving team answered: a colleague's name, no case content",
    ),
    "enquiries.OnwardReferral.note": (
        MASKED,
        "the manager's note on the referral may quote what the picture holds, released agency "
        "information included",
    ),
    "enquiries.OnwardReferral.returned_reason": (
        MASKED,
        "the receiving team's reason may turn on agency information in the picture",
    ),
    "reports.NfaReview.what_should_have_happened": (
        MASKED,
        "a quality reviewer's view of a decision made on the full picture, released agency "
        "information included",
    ),
    "reports.NfaReview.learning": (MASKED, "as what_should_have_happened"),
    "sharing.InformationRequest.question": (
        READABLE,
        "written by the hub to the agency, before the agency answers",
    ),
    "sharing.InformationRequest.withdrawal_reason": (
        READABLE,
        "written by the hub to the agency when it stops asking: the decision's date and outcome "
        "or a researcher's reason, before any answer it could quote",
    ),
    "sharing.InformationRecord.summary": (MASKED, "agency information (firewall content)"),
    "sharing.InformationRecord.detail": (MASKED, "agency information (firewall content)"),
    "sharing.InformationRecord.source_system": (MASKED, "agency information (firewall content)"),
    "sharing.InformationRecord.conditions": (MASKED, "agency information (firewall content)"),
    "sharing.ReleaseRequest.reason": (
        READABLE,
        "written by someone who cannot see the content, to the owning agency",
    ),
    "sharing.ReleaseDecision.reason": (
        READABLE,
        "the owning agency's answer, which the requester is told (docs/domain.md 5, rule 3), and "
        "the justification auditors check; the access log carries it too",
    ),
    "sharing.InformationRecord.withdrawal_reason": (
        READABLE,
        "the owning agency's reason for withdrawing, which the hub is told in place of the "
        "record (docs/domain.md 5.5); the access log carries it too",
    ),
    "sharing.RecordRevision.reason": (
        READABLE,
        "the owning agency's reason for a correction or withdrawal, which the hub is told "
        "(docs/domain.md 5.5); what the record said before (`previous`) is masked",
    ),
    "sharing.ReleaseDecision.conditions": (
        MASKED,
        "become the record's conditions, which are shown only with its content",
    ),
    "sharing.DomesticAbuseNotification.police_reference": (
        READABLE,
        "the force's own reference number: says nothing of the people or what happened",
    ),
    "sharing.DomesticAbuseNotification.address": (
        MASKED,
        "police information behind the firewall: only the force's practitioners read it",
    ),
    "sharing.DomesticAbuseNotification.summary": (MASKED, "as address: what police recorded"),
    "sharing.DomesticAbuseNotification.rationale": (
        MASKED,
        "the force's reasons for its triage, which may quote the notification",
    ),
}


def registered_free_text() -> dict[str, models.Field]:
    fields = {}
    for label in ("agencies", "enquiries", "sharing", "reports"):
        for model in apps.get_app_config(label).get_models():
            if not auditlog.contains(model):
                continue
            for field in model._meta.concrete_fields:
                if isinstance(field, (models.CharField, models.TextField)) and not field.choices:
                    fields[f"{model._meta.label}.{field.name}"] = field
    return fields


def test_every_free_text_field_has_a_decision():
    assert set(registered_free_text()) == set(FREE_TEXT)


@pytest.mark.parametrize("name", sorted(FREE_TEXT))
def test_each_field_is_logged_as_decided(name):
    decision, reason = FREE_TEXT[name]
    field = registered_free_text()[name]
    registration = auditlog.get_model_fields(field.model)

    masked = name.rsplit(".", 1)[1] in registration["mask_fields"]
    excluded = name.rsplit(".", 1)[1] in registration["exclude_fields"]

    assert (masked, excluded) == (decision == MASKED, decision == EXCLUDED), reason


def test_masks_keep_nothing_of_the_text():
    mask = get_mask_function(None)

    assert mask is withhold
    assert mask("Police hold intelligence on the father") == WITHHELD
    # Whether there was any text, so a first entry still reads as one.
    assert mask("") == ""
    assert mask("None") == "None"


def entries_text() -> str:
    return " ".join(
        f"{entry.object_repr} {entry.changes} {entry.changes_text} {entry.serialized_data} "
        f"{entry.additional_data}"
        for entry in LogEntry.objects.all()
    )


def test_released_information_quoted_in_a_decision_stays_out_of_the_log(client, hub):
    record = hub.record("sensitive", marker="SECRET-RECORD")
    services.request_release(
        record_pk=record.pk, actor=hub.researcher, reason="Needed.", channel="page"
    )
    release(
        record, hub.police_officer, conditions="SECRET-CONDITION: not to be shared with the family."
    )
    # The actor a page or API call gets from the middleware.
    with set_actor(hub.manager):
        enquiry = enquiry_services.enquiry_rate(
            enquiry=hub.enquiry,
            actor=hub.manager,
            rating="red",
            rationale="SECRET-RATING: police hold intelligence on the partner.",
            expected_version=hub.enquiry.version,
        )
        enquiry = enquiry_services.enquiry_decide(
            enquiry=enquiry,
            actor=hub.manager,
            outcome=Outcome.objects.get(code="csc_assessment"),
            rationale="SECRET-DECISION: given the police intelligence.",
            expected_version=enquiry.version,
        )
    client.force_login(hub.auditor)

    logged = entries_text()
    page = client.get(reverse("audit-log"), {"log": "changes"}).content.decode()
    export = b"".join(
        client.get(reverse("audit-export"), {"log": "changes"}).streaming_content
    ).decode()

    for text in (logged, page, export):
        assert "SECRET" not in text
        assert "Niche RMS" not in text
    # What changed and who changed it are still there.
    updates = LogEntry.objects.get_for_object(enquiry).filter(action=LogEntry.Action.UPDATE)
    rated = updates.get(changes__has_key="rating")
    assert rated.actor == hub.manager
    assert rated.changes["rating_rationale"] == ["", WITHHELD]
    decided = updates.get(changes__has_key="outcome")
    assert decided.changes["decision_rationale"] == ["", WITHHELD]
    assert "rating rationale: – → (not shown)" in page


def test_the_intake_text_stays_readable(hub):
    entry = LogEntry.objects.get_for_object(hub.enquiry).get(action=LogEntry.Action.CREATE)

    assert entry.changes["concern"][1] == "Bruising noticed at school."
    assert entry.changes["referrer_name"][1] == "Ms Head"


def test_a_change_to_a_records_content_is_logged_without_the_content(hub):
    record = hub.record("sensitive", marker="FIRST")

    with set_actor(hub.police_officer):
        record.detail = "Detail SECOND"
        record.save(update_fields=["detail"])

    entry = LogEntry.objects.get_for_object(record).latest("id")
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == hub.police_officer
    assert entry.changes == {"detail": [WITHHELD, WITHHELD]}


def test_a_records_first_entry_says_which_content_fields_were_filled(hub):
    record = hub.record("sensitive", marker="FIRST")

    entry = LogEntry.objects.get_for_object(record).get(action=LogEntry.Action.CREATE)

    assert entry.changes["summary"] == ["None", WITHHELD]
    assert entry.changes["sensitivity"] == ["None", Sensitivity.SENSITIVE]
    assert InformationRecord.objects.get(pk=record.pk).summary == "Summary FIRST"
