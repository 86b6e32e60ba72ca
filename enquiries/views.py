"""Enquiry pages: intake, the enquiry itself, and the actions on it.

Thin on purpose: forms check the shape of what was typed, services decide and write,
selectors read. A refused action re-shows the form with everything the user typed.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from agencies.decorators import role_required
from agencies.models import HUB_ROLES, WORKING_ROLES, Role
from agencies.requests import SignedInRequest
from audit import access_log
from audit.models import AccessLogEntry
from core.forms import add_service_errors

from . import escalations, hooks, mail, services, visibility
from .amendments import amendments_for
from .clock import clock_in_force
from .exceptions import IntakeKeyReused, StaleEdit
from .forms import (
    AcknowledgeEscalationForm,
    AssignForm,
    DecideForm,
    EscalateForm,
    FeedbackForm,
    IntakeForm,
    InvolvedFormSet,
    MoveForm,
    RateForm,
    SubjectFormSet,
    VersionedForm,
    new_intake_key,
)
from .models import Enquiry
from .referrals import referrals_of
from .selectors import (
    actions_for,
    at_risk_when_left,
    earlier_decisions_on_subject,
    enquiries_about_the_same_people,
    enquiry_for_page,
    enquiry_sla,
    hub_hours,
    intake_key_used,
    person_matches,
    time_left,
    timeline,
    urgency,
)

TRIAGE = (Role.RESEARCHER, Role.MANAGER)


def _rows_to_add(request: SignedInRequest) -> dict[str, int]:
    return {
        "subjects": 1 if "add_subject" in request.POST else 0,
        "others": 1 if "add_other" in request.POST else 0,
    }


def _with_extra_row(data, prefix: str) -> None:
    data[f"{prefix}-TOTAL_FORMS"] = str(int(data.get(f"{prefix}-TOTAL_FORMS") or 0) + 1)


@role_required(*TRIAGE)
def enquiry_intake(request: SignedInRequest) -> HttpResponse:
    """Log a concern: one page, with a check against the person register before anyone new
    is added. Adding a row or answering the check keeps everything typed so far."""
    today = timezone.localdate()
    data = request.POST.copy() if request.method == "POST" else None
    adding = _rows_to_add(request) if data is not None else {}
    for prefix, count in adding.items():
        if count:
            _with_extra_row(data, prefix)
    form = IntakeForm(
        data, initial={"received_at": timezone.localtime().replace(second=0, microsecond=0)}
    )
    subjects = SubjectFormSet(data, prefix="subjects", today=today)
    others = InvolvedFormSet(data, prefix="others", today=today)
    checking = False
    if data is not None and not any(adding.values()):
        valid = all([form.is_valid(), subjects.is_valid(), others.is_valid()])
        repeat = valid and intake_key_used(
            user=request.user, key=form.cleaned_data["idempotency_key"]
        )
        if valid and not repeat:
            checking = _find_matches(
                subjects.filled() + others.filled(), user=request.user, today=today
            )
        if valid and not checking:
            try:
                enquiries = services.enquiry_intake(
                    actor=request.user,
                    subjects=[row.person() for row in subjects.filled()],
                    others=[(row.person(), row.cleaned_data["role"]) for row in others.filled()],
                    **form.cleaned_data,
                )
            except IntakeKeyReused as error:
                form.add_error(None, error)
                # Sent again, these details are a new intake with a key of their own.
                data["idempotency_key"] = new_intake_key()
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                references = ", ".join(enquiry.reference for enquiry in enquiries)
                messages.success(request, f"Enquiry logged: {references}.")
                return redirect(enquiries[0])
    return render(
        request,
        "enquiries/intake.html",
        {
            "form": form,
            "subjects": subjects,
            "others": others,
            "checking": checking,
            "hide_errors": data is None or any(adding.values()),
        },
    )


def _find_matches(rows, *, user, today) -> bool:
    """Put likely register matches on each new person not yet checked; True if any found.
    Each check is a search of the register, logged with the people it showed."""
    checks = []
    for row in rows:
        if not row.undecided:
            continue
        typed = {
            name: row.cleaned_data[name]
            for name in (
                "first_name",
                "last_name",
                "date_of_birth",
                "nhs_number",
                "approximate_age",
            )
        }
        row.matches = person_matches(**typed, today=today)
        checks.append((typed, [match.person.pk for match in row.matches]))
    access_log.log_register_checks(user=user, channel=AccessLogEntry.Channel.SEARCH, checks=checks)
    return any(people for _, people in checks)


@role_required(*WORKING_ROLES)
def enquiry_detail(request: SignedInRequest, reference: str) -> HttpResponse:
    """The whole enquiry: for the hub, and for practitioners of the agencies asked about it.
    Agency information on it comes through the firewall."""
    try:
        enquiry = enquiry_for_page(reference=reference, viewer=request.user)
    except Enquiry.DoesNotExist:
        raise Http404("No enquiry has that reference.") from None
    if not visibility.can_see(request.user, enquiry):
        raise Http404("No enquiry has that reference.")
    clock, now = clock_in_force(), timezone.now()
    sla = enquiry_sla(enquiry, clock=clock, now=now)
    panels = hooks.panels_for(request.user, enquiry)
    access_log.log_person_view(
        user=request.user,
        channel=AccessLogEntry.Channel.PAGE,
        reason=next((panel.reason for panel in panels if panel.reason), None)
        or visibility.justification(request.user, enquiry),
        enquiry=enquiry,
        shown=[record for panel in panels for record in panel.shown],
    )
    return render(
        request,
        "enquiries/detail.html",
        {
            "enquiry": enquiry,
            "sla": sla,
            "time_left": time_left(sla),
            # The countdown script's inputs (enquiries/selectors.py hub_hours) for an open one.
            "urgency": urgency(sla),
            "hours": hub_hours(clock, now=now) if enquiry.decided_at is None else None,
            "continuous": clock.allowances[enquiry.rating].continuous,
            "at_risk_when_left": at_risk_when_left(clock, enquiry.rating),
            "earlier_decisions": list(earlier_decisions_on_subject(enquiry, viewer=request.user)),
            "related": enquiries_about_the_same_people(enquiry, viewer=request.user),
            "actions": actions_for(request.user, enquiry),
            "amendments": amendments_for(request.user, enquiry),
            "history": timeline(enquiry),
            "category_labels": [Enquiry.Concern(code).label for code in enquiry.categories],
            "siblings": [e for e in enquiry.family.enquiries.all() if e.pk != enquiry.pk],
            "panels": panels,
            **{key: value for panel in panels for key, value in panel.context.items()},
            "sees_every_enquiry": visibility.sees_every_enquiry(request.user),
            # Only decided enquiries are referred on, but an open one is asked too: the page
            # runs the same queries whatever the enquiry.
            "referrals": (list(referrals_of(enquiry)) if request.user.has_role(*HUB_ROLES) else []),
            "feedback_emails": mail.feedback_emails(enquiry),
            "now": timezone.now(),
        },
    )


def _enquiry_action(
    request: SignedInRequest,
    reference: str,
    *,
    form_class: type[VersionedForm],
    service: Callable[..., Enquiry],
    title: str,
    done: str,
    notes: Callable[..., list[str]] | None = None,
) -> HttpResponse:
    """Show an action's form; on a valid post, hand it to the service. A stale version
    re-shows the form with the user's input, what changed, and the version now current, so
    saving again is a deliberate choice and never a silent overwrite. `notes(user, enquiry)`
    says what else the action will do."""
    enquiry = get_object_or_404(Enquiry.objects.select_related("subject"), reference=reference)
    form = form_class(request.POST or None, enquiry=enquiry, user=request.user)
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            service(enquiry=enquiry, actor=request.user, **form.cleaned_data)
        except StaleEdit as error:
            stale = error
            enquiry.refresh_from_db()
            data = request.POST.copy()
            data["expected_version"] = str(error.current_version)
            form = form_class(data, enquiry=enquiry, user=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect(enquiry)
    return render(
        request,
        "enquiries/action.html",
        {
            "enquiry": enquiry,
            "form": form,
            "title": title,
            "stale": stale,
            "notes": notes(request.user, enquiry) if notes else [],
        },
    )


def _escalate(*, enquiry, actor, reason, expected_version) -> Enquiry:
    """Escalation never waits on versions: see `services.enquiry_escalate`."""
    return services.enquiry_escalate(enquiry=enquiry, actor=actor, reason=reason)


def _acknowledge(*, enquiry, actor, note, expected_version) -> Enquiry:
    """Acknowledging never waits on versions either: see `escalations.escalation_acknowledge`."""
    return escalations.escalation_acknowledge(enquiry=enquiry, actor=actor, note=note)


@role_required(*TRIAGE)
def enquiry_rate(request: SignedInRequest, reference: str) -> HttpResponse:
    return _enquiry_action(
        request,
        reference,
        form_class=RateForm,
        service=services.enquiry_rate,
        title="Set the RAG rating",
        done="RAG rating saved; the deadline now follows it.",
    )


@role_required(*TRIAGE)
def enquiry_move(request: SignedInRequest, reference: str) -> HttpResponse:
    return _enquiry_action(
        request,
        reference,
        form_class=MoveForm,
        service=services.enquiry_move,
        title="Move to another stage",
        done="Stage changed.",
    )


@role_required(*TRIAGE)
def enquiry_assign(request: SignedInRequest, reference: str) -> HttpResponse:
    return _enquiry_action(
        request,
        reference,
        form_class=AssignForm,
        service=services.enquiry_assign,
        title="Assign the enquiry",
        done="Assignment saved.",
    )


@role_required(*TRIAGE)
def enquiry_escalate(request: SignedInRequest, reference: str) -> HttpResponse:
    return _enquiry_action(
        request,
        reference,
        form_class=EscalateForm,
        service=_escalate,
        title="Escalate for immediate protection",
        done="Escalated: the enquiry is Red and at the top of the managers' queue.",
    )


@role_required(Role.MANAGER)
def enquiry_acknowledge_escalation(request: SignedInRequest, reference: str) -> HttpResponse:
    """A manager takes the escalation on: from the enquiry's page, or straight from the
    "Acknowledge" button of the notification that told them of it."""
    return _enquiry_action(
        request,
        reference,
        form_class=AcknowledgeEscalationForm,
        service=_acknowledge,
        title="Acknowledge the escalation",
        done="Escalation acknowledged: it is no longer repeated to other managers.",
        notes=escalations.escalation_notes,
    )


@role_required(Role.MANAGER)
def enquiry_decide(request: SignedInRequest, reference: str) -> HttpResponse:
    return _enquiry_action(
        request,
        reference,
        form_class=DecideForm,
        service=services.enquiry_decide,
        title="Record the decision",
        done="Decision recorded; the clock has stopped.",
        notes=hooks.decision_notes,
    )


@role_required(*TRIAGE)
def enquiry_feedback(request: SignedInRequest, reference: str) -> HttpResponse:
    return _enquiry_action(
        request,
        reference,
        form_class=FeedbackForm,
        service=services.enquiry_record_feedback,
        title="Record feedback to the referrer",
        done="Feedback recorded; the enquiry is closed.",
    )
