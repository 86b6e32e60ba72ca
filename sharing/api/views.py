"""The sharing API: information requests, agency records, release and refusal, behind DRF.

Thin on purpose, like the enquiries API: the firewall finds what the user may see (anything
else is 404, and the attempt is logged), an input serializer checks the shape of the request,
one service decides and writes, and the result is read back through the firewall. Sensitive
content returned to anyone goes into the access log.
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from agencies.requests import SignedInApiRequest
from audit.models import AccessLogEntry
from core.filters import ListFilters
from enquiries.models import Person

from .. import access_log, firewall, revisions, services, withdrawals
from ..filters import RecordFilter, RequestFilter
from ..models import InformationRecord, InformationRequest
from .serializers import (
    AnswerSerializer,
    InformationRecordSerializer,
    InformationRequestSerializer,
    RecordCorrectionSerializer,
    RecordInputSerializer,
    RecordWithdrawalSerializer,
    RefuseSerializer,
    ReleaseRequestSerializer,
    ReleaseSerializer,
    RequestWithdrawalSerializer,
    SendRequestsSerializer,
)

API = AccessLogEntry.Channel.API


def _errors(missing: str) -> dict:
    return {
        400: OpenApiResponse(description="Field-level errors: {field: [message]}."),
        403: OpenApiResponse(description="Your role or agency does not allow this; logged."),
        404: OpenApiResponse(description=f"No {missing} you may see has that id; logged."),
    }


REQUEST_ERRORS = _errors("information request")
RECORD_ERRORS = _errors("information record")
STALE = {
    409: OpenApiResponse(
        description=(
            "The request changed since you read it; nothing was saved. "
            '{"detail": ..., "changes": [...], "current_version": n}'
        )
    )
}


class SharingViewSet(viewsets.GenericViewSet):
    """What both viewsets share. Anyone with a role may call them (the API's default): the
    firewall decides what each person sees, so a role that never works on enquiries lists
    nothing and finds no id."""

    request: SignedInApiRequest

    attempts: dict[str, str] = {}  # what each action tried, for the log of refusals
    names_records = False

    def _refusals_logged(self):
        """Log a refused attempt in the words the services use."""
        pk = self.kwargs.get("pk")
        attempt = self.attempts[self.action]
        if self.names_records:
            return services.refusals_logged(
                user=self.request.user, action=attempt, channel=API, record_id=pk
            )
        if pk is not None:
            attempt += f" (information request {pk})"
        return services.refusals_logged(user=self.request.user, action=attempt, channel=API)

    def _valid(self, input_class: type[serializers.Serializer]) -> dict:
        serializer = input_class(data=self.request.data, context={"user": self.request.user})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _context(self) -> dict:
        return {**self.get_serializer_context(), "user": self.request.user}

    def _record_response(self, shown: firewall.ShownRecord, code: int = 200) -> Response:
        """The record as the user sees it; sensitive content returned is logged as a view."""
        access_log.log_content_views(user=self.request.user, records=[shown], channel=API)
        data = InformationRecordSerializer(shown, context=self._context()).data
        return Response(data, status=code)

    def _log_person_view(self, **about) -> None:
        """A response about one person: logged with why this user may see it."""
        access_log.log_person_view(user=self.request.user, channel=API, **about)


def _with_details(requests: QuerySet[InformationRequest]) -> QuerySet[InformationRequest]:
    """Everything a request's representation reads, in two queries for any number."""
    return (
        requests.select_related("enquiry", "agency", "requested_by", "answered_by", "withdrawn_by")
        .prefetch_related(Prefetch("people", queryset=Person.objects.order_by("last_name", "id")))
        .annotate(has_records=Exists(InformationRecord.objects.filter(request_id=OuterRef("pk"))))
    )


@extend_schema_view(
    list=extend_schema(
        description=(
            "Information requests on the enquiries you work on, soonest due first. "
            "Practitioners: `agency=mine&open=true` is your agency's inbox. Pages of 50."
        ),
        responses={
            200: InformationRequestSerializer(many=True),
            400: REQUEST_ERRORS[400],
        },
    ),
    retrieve=extend_schema(
        description="One information request.",
        responses={200: InformationRequestSerializer, 404: REQUEST_ERRORS[404]},
    ),
    create=extend_schema(
        description=(
            "Researchers and managers: ask each agency (or the usual set) what it holds about "
            "the people in an open enquiry. Returns the requests made."
        ),
        request=SendRequestsSerializer,
        responses={
            201: InformationRequestSerializer(many=True),
            400: REQUEST_ERRORS[400],
            403: OpenApiResponse(
                description="Only researchers and managers send requests, on open enquiries."
            ),
        },
    ),
)
class InformationRequestViewSet(SharingViewSet):
    """What agencies were asked about each enquiry, and their answers."""

    serializer_class = InformationRequestSerializer
    queryset = InformationRequest.objects.none()  # for the schema's path parameter only
    filter_backends = [ListFilters]
    filterset_class = RequestFilter
    attempts = {
        "retrieve": "see",
        "records": "add a record",
        "answer": "send the answer",
        "nothing_held": "answer nothing held",
        "withdraw": "withdraw an information request",
    }

    def list(self, request: SignedInApiRequest) -> Response:
        requests = self.filter_queryset(firewall.visible_requests(request.user))
        page = self.paginate_queryset(_with_details(requests).order_by("due_at", "id"))
        data = InformationRequestSerializer(page, many=True, context=self._context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: SignedInApiRequest, pk: str) -> Response:
        info_request = self._request(pk)
        mine = info_request.agency_id == request.user.agency_id
        self._log_person_view(
            reason=access_log.justification(
                request.user, info_request.enquiry, requests=[info_request] if mine else None
            ),
            enquiry=info_request.enquiry,
        )
        return Response(self._request_data(info_request))

    def create(self, request: SignedInApiRequest) -> Response:
        data = self._valid(SendRequestsSerializer)
        made = services.send_information_requests(
            enquiry=data["enquiry"],
            actor=request.user,
            agencies=data["agencies"],
            question=data["question"],
            people=data["people"] or None,
            channel=AccessLogEntry.Channel.API,
        )
        requests = _with_details(InformationRequest.objects.filter(pk__in=[r.pk for r in made]))
        data = InformationRequestSerializer(requests, many=True, context=self._context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RecordInputSerializer,
        responses={201: InformationRecordSerializer, **REQUEST_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def records(self, request: SignedInApiRequest, pk: str) -> Response:
        """A practitioner of the asked agency records what it holds about one person in the
        enquiry. Add as many as there are, then send the answer."""
        info_request = self._request(pk)
        fields = self._valid(RecordInputSerializer)
        record = services.add_information_record(
            request=info_request, actor=request.user, channel=API, **fields
        )
        shown = firewall.record_for(request.user, record.pk)
        return self._record_response(shown, code=status.HTTP_201_CREATED)

    @extend_schema(
        request=AnswerSerializer,
        responses={200: InformationRequestSerializer, **REQUEST_ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: SignedInApiRequest, pk: str) -> Response:
        """The agency has recorded everything it holds: the request is answered."""
        return self._answer(pk, services.send_answer)

    @extend_schema(
        request=AnswerSerializer,
        responses={200: InformationRequestSerializer, **REQUEST_ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"], url_path="nothing-held")
    def nothing_held(self, request: SignedInApiRequest, pk: str) -> Response:
        """The agency holds nothing about the people concerned."""
        return self._answer(pk, services.record_nothing_held)

    @extend_schema(
        request=RequestWithdrawalSerializer,
        responses={200: InformationRequestSerializer, **REQUEST_ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: SignedInApiRequest, pk: str) -> Response:
        """Researchers and managers withdraw a request still waiting for its answer, saying
        why; the agency's practitioners are told. Deciding the enquiry withdraws every open
        request itself."""
        with self._refusals_logged():
            if not firewall.works_on_enquiries(request.user):
                raise PermissionDenied(firewall.ONLY_THE_HUB_WITHDRAWS)
        info_request = self._request(pk)
        withdrawals.withdraw_request(
            request=info_request,
            actor=request.user,
            channel=API,
            **self._valid(RequestWithdrawalSerializer),
        )
        return Response(self._request_data(info_request))

    def _answer(self, pk: str, service: Callable[..., InformationRequest]) -> Response:
        info_request = self._request(pk)
        service(
            request=info_request,
            actor=self.request.user,
            channel=API,
            **self._valid(AnswerSerializer),
        )
        return Response(self._request_data(info_request))

    def _request(self, pk: str) -> InformationRequest:
        with self._refusals_logged():
            return firewall.request_for(self.request.user, pk)

    def _request_data(self, info_request: InformationRequest) -> dict:
        fresh = _with_details(InformationRequest.objects.filter(pk=info_request.pk)).get()
        return InformationRequestSerializer(fresh, context=self._context()).data


@extend_schema_view(
    list=extend_schema(
        description=(
            "Agency records on the enquiries you work on, newest first: the content where you "
            "may read it, otherwise a signpost. Pages of 50. Every sensitive record whose "
            "content is returned is written to the access log."
        ),
        responses={
            200: InformationRecordSerializer(many=True),
            400: RECORD_ERRORS[400],
        },
    ),
    retrieve=extend_schema(
        description=(
            "One record as the firewall shows it to you; a view of sensitive content is logged."
        ),
        responses={200: InformationRecordSerializer, 404: RECORD_ERRORS[404]},
    ),
)
class InformationRecordViewSet(SharingViewSet):
    """What the agencies hold, behind the firewall."""

    serializer_class = InformationRecordSerializer
    queryset = InformationRecord.objects.none()  # for the schema's path parameter only
    filter_backends = [ListFilters]
    filterset_class = RecordFilter
    filterset: RecordFilter  # the list's, once `filter_queryset` has read it
    attempts = {
        "retrieve": "see",
        "release_request": "request release",
        "release": "release",
        "refuse": "refuse",
        "correct": "correct a record",
        "withdraw": "withdraw a record",
    }
    names_records = True

    def list(self, request: SignedInApiRequest) -> Response:
        records = self.filter_queryset(firewall.visible_records(request.user))
        page = self.paginate_queryset(records.order_by("-id").values_list("pk", flat=True))
        shown = firewall.shown_records(records.filter(pk__in=page).order_by("-id"))
        if self.filterset.words:
            # A search of the records' content; a plain list logs only content it shows.
            access_log.log_search(
                user=request.user,
                channel=API,
                doing="Searching agency records",
                terms=access_log.search_terms(**self.filterset.asked()),
                shown=shown,
            )
        else:
            access_log.log_content_views(user=request.user, records=shown, channel=API)
        data = InformationRecordSerializer(shown, many=True, context=self._context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: SignedInApiRequest, pk: str) -> Response:
        shown = self._shown(pk)
        self._log_person_view(
            reason=access_log.record_justifications(request.user, [shown])[shown.enquiry_id],
            record=shown,
            shown=[shown],
        )
        data = InformationRecordSerializer(shown, context=self._context()).data
        return Response(data)

    @extend_schema(
        request=ReleaseRequestSerializer,
        responses={201: InformationRecordSerializer, **RECORD_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="release-request")
    def release_request(self, request: SignedInApiRequest, pk: str) -> Response:
        """Anyone working on the enquiry asks the owning agency to release a sensitive record,
        saying why."""
        return self._decide(pk, services.request_release, ReleaseRequestSerializer)

    @extend_schema(
        request=ReleaseSerializer, responses={201: InformationRecordSerializer, **RECORD_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def release(self, request: SignedInApiRequest, pk: str) -> Response:
        """A practitioner of the owning agency releases a sensitive record to the hub, for
        this enquiry only, with the lawful basis and any conditions on its use."""
        return self._decide(pk, services.release_record, ReleaseSerializer)

    @extend_schema(
        request=RefuseSerializer, responses={201: InformationRecordSerializer, **RECORD_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request: SignedInApiRequest, pk: str) -> Response:
        """A practitioner of the owning agency refuses a request for release, saying why.
        Others keep seeing the signpost."""
        return self._decide(pk, services.refuse_release, RefuseSerializer)

    @extend_schema(
        request=RecordCorrectionSerializer,
        responses={200: InformationRecordSerializer, **RECORD_ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request: SignedInApiRequest, pk: str) -> Response:
        """A practitioner of the owning agency corrects its record, giving the whole record
        as it should be. Once someone outside the agency has read it, a `reason` is required
        and the hub is told it (docs/domain.md section 5.5)."""
        return self._revise(pk, revisions.correct_record, RecordCorrectionSerializer)

    @extend_schema(
        request=RecordWithdrawalSerializer,
        responses={200: InformationRecordSerializer, **RECORD_ERRORS, **STALE},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: SignedInApiRequest, pk: str) -> Response:
        """A practitioner of the owning agency withdraws its record: from then on only the
        agency reads it, and others see who withdrew it, when and why. Once someone outside
        the agency has read it, a `reason` is required and the hub is told it."""
        return self._revise(pk, revisions.withdraw_record, RecordWithdrawalSerializer)

    def _revise(
        self,
        pk: str,
        service: Callable[..., object],
        input_class: type[serializers.Serializer],
    ) -> Response:
        self._shown(pk)
        service(record_pk=pk, actor=self.request.user, channel=API, **self._valid(input_class))
        return self._record_response(firewall.record_for(self.request.user, pk))

    def _shown(self, pk: str) -> firewall.ShownRecord:
        """The record as the user may see it: 404, logged, before anything else is checked,
        so a guessed id learns nothing from the answer."""
        with self._refusals_logged():
            return firewall.record_for(self.request.user, pk)

    def _decide(
        self,
        pk: str,
        service: Callable[..., object],
        input_class: type[serializers.Serializer],
    ) -> Response:
        """404 for a record the user may not see, then the shape of the input, then the
        service's decision; 201 with the record as the user now sees it."""
        self._shown(pk)
        service(record_pk=pk, actor=self.request.user, channel=API, **self._valid(input_class))
        shown = firewall.record_for(self.request.user, pk)
        return self._record_response(shown, code=status.HTTP_201_CREATED)
