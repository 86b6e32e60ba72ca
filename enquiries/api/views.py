"""The enquiries API: the same services and selectors as the pages, behind DRF.

Thin on purpose: an input serializer checks the shape of the request, one service decides and
writes (in its own transaction, so a refusal saves nothing), and the enquiry is read back as
it now is. Domain errors become responses in `core.api.exception_handler`.
"""

from collections.abc import Callable
from datetime import datetime
from typing import cast

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import Role
from agencies.permissions import HoldsAHubRole
from agencies.requests import SignedInApiRequest
from audit import access_log
from audit.models import AccessLogEntry
from core.filters import ListFilters
from core.text import clean_text

from .. import amendments, escalations, services, visibility
from ..clock import clock_in_force
from ..filters import EnquiryFilter
from ..models import Enquiry, EnquiryPerson, IntakeKey
from ..selectors import (
    enquiry_for_page,
    enquiry_list,
    intake_key_used,
    outcomes,
    person_matches,
    referrer_types,
)
from .serializers import (
    AcknowledgeEscalationSerializer,
    AddChildSerializer,
    AddPersonSerializer,
    AssignSerializer,
    DecideSerializer,
    EnquiryRowSerializer,
    EnquirySerializer,
    EscalateSerializer,
    FeedbackSerializer,
    IntakeResultSerializer,
    IntakeSerializer,
    OutcomeSerializer,
    PersonCorrectSerializer,
    PersonMatchQuerySerializer,
    PersonMatchSerializer,
    RateSerializer,
    ReferralCorrectSerializer,
    ReferrerTypeSerializer,
    RemovePersonSerializer,
    TransitionSerializer,
)


class TriageStaff(BasePermission):
    message = "Only researchers and managers work on enquiries."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.is_authenticated and request.user.has_role(
            Role.RESEARCHER, Role.MANAGER
        )


class Managers(BasePermission):
    message = "Only a manager records the decision."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.is_authenticated and request.user.has_role(Role.MANAGER)


class EscalationAcknowledgers(BasePermission):
    message = "Only a manager acknowledges an escalation."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.is_authenticated and request.user.has_role(Role.MANAGER)


IDEMPOTENCY_KEY = "Idempotency-Key"

ERRORS = {
    400: OpenApiResponse(description="Field-level errors: {field: [message]}."),
    403: OpenApiResponse(description="Your role does not allow this."),
    404: OpenApiResponse(description="No enquiry has that reference."),
}
VERSIONED_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(
        description=(
            "The enquiry changed since you read it; nothing was saved. "
            '{"detail": ..., "changes": [...], "current_version": n}'
        )
    ),
}


AMENDMENT_ERRORS = {
    **VERSIONED_ERRORS,
    403: OpenApiResponse(description="Only researchers and managers amend enquiries."),
    404: OpenApiResponse(
        description="No enquiry has that reference (or you may not see it), or nobody with that "
        "id is named in it."
    ),
}


def _amendment_schema(request_serializer: type[serializers.Serializer], *, created=False):
    ok = {201: EnquirySerializer} if created else {200: EnquirySerializer}
    return extend_schema(request=request_serializer, responses={**ok, **AMENDMENT_ERRORS})


# An enquiry the caller may not see is 404 before their role is asked about, as on its page.
AMENDS = [IsAuthenticated, HoldsAHubRole]


def _action_schema(request_serializer: type[serializers.Serializer], *, versioned: bool = True):
    responses = VERSIONED_ERRORS if versioned else ERRORS
    return extend_schema(
        request=request_serializer, responses={200: EnquirySerializer, **responses}
    )


@extend_schema_view(
    list=extend_schema(
        description=(
            "Enquiries in every state, newest first, each with its clock status now. "
            "Filters combine; pages of 50 (`page_size` up to 200)."
        ),
        responses={200: EnquiryRowSerializer(many=True), 400: ERRORS[400], 403: ERRORS[403]},
    ),
    retrieve=extend_schema(
        description="One enquiry with its people, history, family and clock status.",
        responses={200: EnquirySerializer, 403: ERRORS[403], 404: ERRORS[404]},
    ),
    create=extend_schema(
        description=(
            "Log a concern: one enquiry for each subject, together as a family. Someone new "
            "is checked against the person register first (see `confirmed_new`). Send an "
            "`Idempotency-Key` to retry safely: the same request with the same key again is "
            "answered with the family it logged, not logged twice."
        ),
        request=IntakeSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY,
                location=OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Any unique string of up to 200 characters, such as a UUID, new for "
                    "each concern and kept when retrying it."
                ),
            )
        ],
        responses={
            201: IntakeResultSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            422: OpenApiResponse(
                description=(
                    "The Idempotency-Key was already used for a request with different "
                    'details; nothing was saved. {"detail": ..., "references": [...]}'
                )
            ),
        },
    ),
)
class EnquiryViewSet(viewsets.GenericViewSet):
    """Enquiries in every state, for researchers and managers."""

    request: SignedInApiRequest

    permission_classes = [IsAuthenticated, TriageStaff]
    serializer_class = EnquirySerializer
    queryset = Enquiry.objects.none()  # for the schema's model only
    filter_backends = [ListFilters]
    filterset_class = EnquiryFilter
    filterset: EnquiryFilter  # the list's, once `filter_queryset` has read it
    lookup_field = "reference"
    lookup_value_regex = "[^/]+"

    def list(self, request: SignedInApiRequest) -> Response:
        page = self.paginate_queryset(self.filter_queryset(enquiry_list()))
        asked = self.filterset
        if asked.words:
            # A search of every enquiry by reference or name; a plain list is not logged.
            access_log.log_search(
                user=request.user,
                channel=AccessLogEntry.Channel.API,
                doing="Searching enquiries",
                terms=access_log.search_terms(**asked.asked()),
            )
        rows = EnquiryRowSerializer(page, many=True, context=self._clock_context(asked.now))
        return self.get_paginated_response(rows.data)

    def retrieve(self, request: SignedInApiRequest, reference: str) -> Response:
        enquiry = self._enquiry(reference)
        access_log.log_person_view(
            user=request.user,
            channel=AccessLogEntry.Channel.API,
            reason=visibility.justification(request.user, enquiry),
            enquiry=enquiry,
        )
        return Response(self._enquiry_data(enquiry))

    def create(self, request: SignedInApiRequest) -> Response:
        key = clean_text(
            IDEMPOTENCY_KEY,
            request.headers.get(IDEMPOTENCY_KEY, ""),
            max_length=cast(int, IntakeKey._meta.get_field("key").max_length),  # a CharField's
        )
        # The serializer checks each new person against the register; each check is logged,
        # whether or not it refuses the intake.
        checks: list[tuple[dict, list[int]]] = []
        try:
            data = self._valid(
                IntakeSerializer,
                context={
                    "repeat_intake": intake_key_used(user=request.user, key=key),
                    "register_checks": checks,
                },
            )
        finally:
            access_log.log_register_checks(
                user=request.user, channel=AccessLogEntry.Channel.API, checks=checks
            )
        enquiries = services.enquiry_intake(actor=request.user, idempotency_key=key, **data)
        result = {
            "family_reference": enquiries[0].family.reference,
            "enquiries": [self._enquiry_data(self._enquiry(e.reference)) for e in enquiries],
        }
        return Response(result, status=status.HTTP_201_CREATED)

    @_action_schema(RateSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request: SignedInApiRequest, reference: str) -> Response:
        """Give or change the RAG rating; the deadline moves with it, counted from receipt."""
        return self._act(reference, services.enquiry_rate, RateSerializer)

    @_action_schema(TransitionSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: SignedInApiRequest, reference: str) -> Response:
        """Move an open enquiry along its process."""
        return self._act(reference, services.enquiry_move, TransitionSerializer)

    @_action_schema(AssignSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: SignedInApiRequest, reference: str) -> Response:
        """Give the enquiry to a researcher or manager; only a manager takes it from someone
        else."""
        return self._act(reference, services.enquiry_assign, AssignSerializer)

    @_action_schema(EscalateSerializer, versioned=False)
    @action(detail=True, methods=["post"])
    def escalate(self, request: SignedInApiRequest, reference: str) -> Response:
        """Red at once, for immediate protection. Takes no version: an escalation is never
        refused because someone else edited the enquiry a moment before."""
        return self._act(reference, services.enquiry_escalate, EscalateSerializer)

    @_action_schema(AcknowledgeEscalationSerializer, versioned=False)
    @action(
        detail=True,
        methods=["post"],
        url_path="acknowledge-escalation",
        permission_classes=[IsAuthenticated, EscalationAcknowledgers],
    )
    def acknowledge_escalation(self, request: SignedInApiRequest, reference: str) -> Response:
        """A manager takes the open escalation on: timestamped, in the history, and no longer
        repeated to other managers. Takes no version, as escalating does. Refused (400) for an
        enquiry not escalated, decided, or already acknowledged."""
        return self._act(
            reference, escalations.escalation_acknowledge, AcknowledgeEscalationSerializer
        )

    @_action_schema(DecideSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated, Managers])
    def decide(self, request: SignedInApiRequest, reference: str) -> Response:
        """A manager's decision: it stops the clock and settles whether it was on time."""
        return self._act(reference, services.enquiry_decide, DecideSerializer)

    @_action_schema(FeedbackSerializer)
    @action(detail=True, methods=["post"])
    def feedback(self, request: SignedInApiRequest, reference: str) -> Response:
        """What the referrer was told about the outcome; it closes the enquiry. A text that
        quotes agency information is refused on `text`, naming the record, and logged."""
        return self._act(
            reference,
            services.enquiry_record_feedback,
            FeedbackSerializer,
            channel=AccessLogEntry.Channel.API,
        )

    @_amendment_schema(AddPersonSerializer)
    @action(detail=True, methods=["post"], url_path="people", permission_classes=AMENDS)
    def add_person(self, request: SignedInApiRequest, reference: str) -> Response:
        """Name someone in an open enquiry with their part, with a reason; everyone but the
        children joins every open enquiry of the family. Someone new is checked against the
        register first, as at intake."""
        enquiry = self._may_amend(reference)
        return self._amend(enquiry, amendments.enquiry_add_person, AddPersonSerializer)

    @_amendment_schema(RemovePersonSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"people/(?P<involvement_id>[0-9]+)/remove",
        permission_classes=AMENDS,
    )
    def remove_person(
        self, request: SignedInApiRequest, reference: str, involvement_id: str
    ) -> Response:
        """Take off an open enquiry (and the family's other open enquiries) someone named in
        error: `involvement_id` is the `id` of their entry in `people`. Never a child of the
        family; refused on `non_field_errors` while an agency holds work about them there."""
        enquiry = self._may_amend(reference)
        involvement = _named(enquiry, involvement_id, by="pk")
        return self._amend(
            enquiry,
            amendments.enquiry_remove_person,
            RemovePersonSerializer,
            involvement=involvement,
        )

    @_amendment_schema(PersonCorrectSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"people/(?P<person_id>[0-9]+)/correct",
        permission_classes=AMENDS,
    )
    def correct_person(
        self, request: SignedInApiRequest, reference: str, person_id: str
    ) -> Response:
        """Correct the details of someone named in the enquiry, in any state; only the details
        sent change. The register holds one entry for them, so every enquiry naming them shows
        it; this enquiry's history keeps the before and after."""
        enquiry = self._may_amend(reference)
        person = _named(enquiry, person_id, by="person_id").person
        return self._amend(
            enquiry, amendments.person_correct, PersonCorrectSerializer, person=person
        )

    @_amendment_schema(AddChildSerializer, created=True)
    @action(detail=True, methods=["post"], url_path="children", permission_classes=AMENDS)
    def add_child(self, request: SignedInApiRequest, reference: str) -> Response:
        """A child of the household found after intake: 201 with their new enquiry in this
        enquiry's family (the referral as received, unrated), siblings both ways. Needs an open
        enquiry in the family."""
        enquiry = self._may_amend(reference)
        new = amendments.family_add_child(
            enquiry=enquiry, actor=request.user, **self._valid_amendment(AddChildSerializer)
        )
        return Response(
            self._enquiry_data(self._enquiry(new.reference)), status=status.HTTP_201_CREATED
        )

    @_amendment_schema(ReferralCorrectSerializer)
    @action(detail=True, methods=["post"], url_path="referral", permission_classes=AMENDS)
    def correct_referral(self, request: SignedInApiRequest, reference: str) -> Response:
        """Correct the referral (referrer, contact, categories, concern, consent, lawful
        basis), in any state; only the fields sent change, and the referral as corrected must
        pass intake's rules."""
        enquiry = self._may_amend(reference)
        return self._amend(enquiry, amendments.referral_correct, ReferralCorrectSerializer)

    def _may_amend(self, reference: str) -> Enquiry:
        """The enquiry if the caller may see it (else 404), and may amend it (else 403)."""
        enquiry = self._enquiry(reference)
        if not self.request.user.has_role(*services.TRIAGE_ROLES):
            raise PermissionDenied(TriageStaff.message)
        return enquiry

    def _valid_amendment(self, input_class: type[serializers.Serializer]) -> dict:
        """The input, with each register check it made written to the access log."""
        checks: list[tuple[dict, list[int]]] = []
        try:
            return self._valid(input_class, context={"register_checks": checks})
        finally:
            if checks:
                access_log.log_register_checks(
                    user=self.request.user, channel=AccessLogEntry.Channel.API, checks=checks
                )

    def _amend(
        self,
        enquiry: Enquiry,
        service: Callable[..., Enquiry],
        input_class: type[serializers.Serializer],
        **arguments,
    ) -> Response:
        service(
            enquiry=enquiry,
            actor=self.request.user,
            **arguments,
            **self._valid_amendment(input_class),
        )
        return Response(self._enquiry_data(self._enquiry(enquiry.reference)))

    def _act(
        self,
        reference: str,
        service: Callable[..., Enquiry],
        input_class: type[serializers.Serializer],
        **arguments,
    ) -> Response:
        enquiry = self._enquiry(reference)
        service(enquiry=enquiry, actor=self.request.user, **arguments, **self._valid(input_class))
        return Response(self._enquiry_data(self._enquiry(reference)))

    def _valid(
        self, input_class: type[serializers.Serializer], context: dict | None = None
    ) -> dict:
        serializer = input_class(data=self.request.data, context=context or {})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _enquiry(self, reference: str) -> Enquiry:
        try:
            return enquiry_for_page(
                reference=reference, viewer=self.request.user, with_feedback_email=True
            )
        except Enquiry.DoesNotExist:
            raise NotFound("No enquiry has that reference.") from None

    def _clock_context(self, now: datetime | None = None) -> dict:
        return {
            **self.get_serializer_context(),
            "clock": clock_in_force(),
            "now": now or timezone.now(),
        }

    def _enquiry_data(self, enquiry: Enquiry) -> dict:
        return EnquirySerializer(enquiry, context=self._clock_context()).data


def _named(enquiry: Enquiry, value: str, *, by: str) -> EnquiryPerson:
    """The entry in the enquiry's people with that id (`by` "pk") or that person's (`by`
    "person_id"), from those the enquiry was read with."""
    for involvement in enquiry.involvements.all():
        if str(getattr(involvement, by)) == value:
            return involvement
    raise NotFound("Nobody with that id is named in this enquiry.")


class ReferrerTypeList(generics.ListAPIView):
    """Who can make a referral; `code` is what intake takes. Retired types are listed with
    `is_active` false, because older enquiries still name them."""

    request: SignedInApiRequest

    serializer_class = ReferrerTypeSerializer
    pagination_class = None

    def get_queryset(self):
        return referrer_types()


class OutcomeList(generics.ListAPIView):
    """The decisions a manager can record; `code` is what deciding takes."""

    request: SignedInApiRequest

    serializer_class = OutcomeSerializer
    pagination_class = None

    def get_queryset(self):
        return outcomes()


class PersonMatchList(APIView):
    """People already in the register who may be the one about to be added, best first: give
    one's `id` at intake rather than adding them again."""

    request: SignedInApiRequest

    permission_classes = [IsAuthenticated, TriageStaff]

    @extend_schema(
        parameters=[PersonMatchQuerySerializer],
        responses={200: PersonMatchSerializer(many=True), 400: ERRORS[400]},
    )
    def get(self, request: SignedInApiRequest) -> Response:
        query = PersonMatchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        matches = person_matches(**query.validated_data, today=timezone.localdate())
        access_log.log_register_checks(
            user=request.user,
            channel=AccessLogEntry.Channel.API,
            checks=[(query.validated_data, [match.person.pk for match in matches])],
        )
        return Response(PersonMatchSerializer(matches, many=True).data)
