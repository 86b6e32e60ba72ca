"""What this app adds to `enquiries`, the layer below, through the hooks it offers
(enquiries.visibility, enquiries.hooks): the firewall as the gate to every enquiry, the
agencies' information on the enquiry page and in a person's chronology, the check that
feedback quotes no record, the check that keeps a person with agency work on an enquiry,
information requests falling due with their enquiry (and kept to the clock and the sharing
policy, sharing.timing), the picture sent with an onward
referral, and the requests a decision withdraws. Registered at start-up (sharing.apps)."""

from agencies.models import User
from audit.access_log import log_access
from audit.models import AccessLogEntry
from enquiries import hooks, visibility
from enquiries.models import Enquiry, Person

from . import access_log, chronology, firewall, picture, selectors, services, timing, withdrawals
from .models import InformationRecord, InformationRequest


def information_panel(user: User, enquiry: Enquiry) -> hooks.Panel:
    """The requests made about the enquiry and each agency's answer, as the firewall shows
    them to this person."""
    information = selectors.enquiry_sharing(user, enquiry)
    return hooks.Panel(
        template="sharing/_enquiry_information.html",
        context={"information": information},
        shown=[record.shown for record in information.records],
        reason=access_log.justification(
            user, enquiry, requests=[answer.request for answer in information.answers]
        ),
    )


def refuse_quoted_records(actor: User, enquiry: Enquiry, text: str, channel: str) -> str | None:
    """Feedback leaves the hub, so it may not quote a record its writer can read; the attempt
    is in the access log."""
    quotation = firewall.quoted_record(actor, enquiry, text)
    if quotation is None:
        return None
    log_access(
        user=actor,
        action=AccessLogEntry.Action.DENIED,
        channel=channel,
        records=[quotation.record],
        reason="Feedback to the referrer quoted this record; refused.",
    )
    return quotation.message


def work_about_the_person(enquiry: Enquiry, person: Person) -> str | None:
    """A person named in an information request, or in an agency's record, on this enquiry
    stays on it: their removal would orphan the agencies' work."""
    if InformationRecord.objects.filter(enquiry=enquiry, person=person).exists():
        return f"An agency has recorded information about {person} on this enquiry."
    if InformationRequest.objects.filter(enquiry=enquiry, people=person).exists():
        return f"An information request on this enquiry asks about {person}."
    return None


def requests_fall_due_with_their_enquiry(sender, enquiries: list[Enquiry], **kwargs) -> None:
    services.refresh_request_due_times(enquiries)


def register() -> None:
    visibility.decide_with(
        visibility.Gate(
            rule=firewall.enquiry_rule,
            can_see=firewall.can_see_enquiry,
            justification=access_log.justification,
        )
    )
    hooks.add_panel(information_panel)
    hooks.refuse_feedback_with(refuse_quoted_records)
    hooks.refuse_removal_with(work_about_the_person)
    hooks.add_chronology_source(chronology.agency_entries)
    hooks.render_picture_with(picture.picture_for_referral)
    hooks.follow_decisions_with(withdrawals.withdraw_on_decision)
    hooks.add_decision_notes(withdrawals.decision_notes)
    hooks.timing_changed.connect(
        requests_fall_due_with_their_enquiry, dispatch_uid="requests-fall-due-with-enquiry"
    )
    timing.register()
