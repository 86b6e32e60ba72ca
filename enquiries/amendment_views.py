"""The pages that amend an enquiry after intake (docs/domain.md section 4.8).

As the other action pages (`views._enquiry_action`): the form checks the shape of what was
typed, `amendments` decides and writes, and a stale version re-shows the form with the user's
input, what changed and the version now current, so saving again is a deliberate choice.
Someone new is checked against the register first, as at intake.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from agencies.decorators import role_required
from agencies.models import Role
from agencies.requests import SignedInRequest
from core.forms import add_service_errors

from . import amendments, hooks
from .amendment_forms import (
    AddChildForm,
    AddPersonForm,
    PersonCorrectForm,
    ReferralCorrectForm,
    RemovePersonForm,
)
from .exceptions import PersonChanged, StaleEdit
from .forms import VersionedForm
from .models import Enquiry, EnquiryPerson, Person
from .views import _find_matches

TRIAGE = (Role.RESEARCHER, Role.MANAGER)

Form = TypeVar("Form", bound=VersionedForm)


def _enquiry(reference: str) -> Enquiry:
    return get_object_or_404(
        Enquiry.objects.select_related("subject", "family", "assignee"), reference=reference
    )


def _save(
    request: SignedInRequest,
    form: Form,
    *,
    save: Callable[[dict[str, Any]], Enquiry],
    remake: Callable[[Any], Form],
) -> tuple[Form, StaleEdit | None, Enquiry | None]:
    """Hand a valid form to its amendment: (the form to show, the stale edit if it was one,
    the enquiry to go to if it was saved)."""
    try:
        return form, None, save(form.cleaned_data)
    except StaleEdit as error:
        data = request.POST.copy()
        data["expected_version"] = str(error.current_version)
        if isinstance(error, PersonChanged):
            data["expected_person_version"] = str(error.current_person_version)
        form.enquiry.refresh_from_db()
        return remake(data), error, None
    except ValidationError as error:
        add_service_errors(form, error)
        return form, None, None


@role_required(*TRIAGE)
def person_correct(request: SignedInRequest, reference: str, person_id: int) -> HttpResponse:
    """Correct the details of someone named in the enquiry, in any state."""
    enquiry = _enquiry(reference)
    person = get_object_or_404(
        Person.objects.filter(involvements__enquiry=enquiry).distinct(), pk=person_id
    )

    def make(data) -> PersonCorrectForm:
        return PersonCorrectForm(data, enquiry=enquiry, user=request.user, person=person)

    form, stale = make(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        form, stale, saved = _save(
            request,
            form,
            save=lambda data: amendments.person_correct(
                enquiry=enquiry, person=person, actor=request.user, **data
            ),
            remake=make,
        )
        if saved:
            messages.success(request, f"{person}'s details corrected.")
            return redirect(saved)
        if stale:
            person.refresh_from_db()
    return render(
        request,
        "enquiries/amend_person_correct.html",
        {"enquiry": enquiry, "person": person, "form": form, "stale": stale},
    )


def _adding(
    request: SignedInRequest,
    enquiry: Enquiry,
    *,
    form_class: type[AddPersonForm] | type[AddChildForm],
    save: Callable[[Any], Enquiry],
    title: str,
    done: Callable[[Enquiry], str],
) -> HttpResponse:
    """Add someone: if the register may already hold them, offer those people first and
    save nothing until the user chooses one or "someone new"."""
    today = timezone.localdate()

    def make(data) -> AddPersonForm | AddChildForm:
        return form_class(data, enquiry=enquiry, user=request.user, today=today)

    form, stale, checking = make(request.POST or None), None, False
    if request.method == "POST" and form.is_valid():
        checking = _find_matches([form], user=request.user, today=today)
        if not checking:
            form, stale, saved = _save(request, form, save=lambda data: save(form), remake=make)
            if saved:
                messages.success(request, done(saved))
                return redirect(saved)
    return render(
        request,
        "enquiries/amend_person_add.html",
        {
            "enquiry": enquiry,
            "form": form,
            "stale": stale,
            "checking": checking,
            "title": title,
            "child": form_class is AddChildForm,
        },
    )


@role_required(*TRIAGE)
def person_add(request: SignedInRequest, reference: str) -> HttpResponse:
    """Name someone in an open enquiry (and the family's other open enquiries)."""
    enquiry = _enquiry(reference)
    return _adding(
        request,
        enquiry,
        form_class=AddPersonForm,
        save=lambda form: amendments.enquiry_add_person(
            enquiry=enquiry,
            actor=request.user,
            person=form.person(),
            role=form.cleaned_data["role"],
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["expected_version"],
        ),
        title="Add a person",
        done=lambda saved: "Person added.",
    )


@role_required(*TRIAGE)
def child_add(request: SignedInRequest, reference: str) -> HttpResponse:
    """A child of the household found after intake: an enquiry of their own in the family."""
    enquiry = _enquiry(reference)
    return _adding(
        request,
        enquiry,
        form_class=AddChildForm,
        save=lambda form: amendments.family_add_child(
            enquiry=enquiry,
            actor=request.user,
            child=form.person(),
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["expected_version"],
        ),
        title="Add a child to this family",
        done=lambda new: f"Child added to the family: {new.reference}.",
    )


@role_required(*TRIAGE)
def person_remove(request: SignedInRequest, reference: str, involvement_id: int) -> HttpResponse:
    """Take off someone named in error."""
    enquiry = _enquiry(reference)
    involvement = get_object_or_404(
        EnquiryPerson.objects.select_related("person"), pk=involvement_id, enquiry=enquiry
    )

    def make(data) -> RemovePersonForm:
        return RemovePersonForm(data, enquiry=enquiry, user=request.user)

    form, stale = make(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        form, stale, saved = _save(
            request,
            form,
            save=lambda data: amendments.enquiry_remove_person(
                enquiry=enquiry, actor=request.user, involvement=involvement, **data
            ),
            remake=make,
        )
        if saved:
            messages.success(request, f"{involvement.person} taken off the enquiry.")
            return redirect(saved)
    return render(
        request,
        "enquiries/amend_person_remove.html",
        {
            "enquiry": enquiry,
            "involvement": involvement,
            "form": form,
            "stale": stale,
            # Said before the reason is typed, rather than after.
            "refusal": hooks.removal_refusal(enquiry, involvement.person),
        },
    )


@role_required(*TRIAGE)
def referral_correct(request: SignedInRequest, reference: str) -> HttpResponse:
    """Correct what the front door recorded of the referral, in any state."""
    enquiry = _enquiry(reference)

    def make(data) -> ReferralCorrectForm:
        return ReferralCorrectForm(data, enquiry=enquiry, user=request.user)

    form, stale = make(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        form, stale, saved = _save(
            request,
            form,
            save=lambda data: amendments.referral_correct(
                enquiry=enquiry, actor=request.user, **data
            ),
            remake=make,
        )
        if saved:
            messages.success(request, "Referral corrected.")
            return redirect(saved)
    return render(
        request,
        "enquiries/amend_referral.html",
        {"enquiry": enquiry, "form": form, "stale": stale},
    )
