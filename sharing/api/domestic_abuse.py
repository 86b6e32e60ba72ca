"""The API of the police's domestic-abuse notifications (docs/domain.md 5.7): a force's system
sends them in bulk, its practitioners list, read and triage them. Only the force's own
practitioners find any (sharing.firewall): for everyone else the list is empty and an id is
404, logged. Every answer showing notifications is in the access log."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from agencies.requests import SignedInApiRequest
from audit.models import AccessLogEntry
from core.api import RefusesUnknownFields
from core.dates import not_before_earliest
from core.text import FreeTextSerializerField
from enquiries.models import Enquiry, LawfulBasis

from .. import domestic_abuse, firewall, services
from ..domestic_abuse_views import filtered, queue_order
from ..models import DomesticAbuseNotification

API = AccessLogEntry.Channel.API
Notification = DomesticAbuseNotification

# Output


class NotificationPersonSerializer(serializers.Serializer):
    part = serializers.ChoiceField(choices=Notification.Part.choices)
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agency = serializers.CharField(source="agency.name")
    police_reference = serializers.CharField()
    incident_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    address = serializers.CharField()
    summary = serializers.CharField()
    consent = serializers.ChoiceField(choices=Enquiry.Consent.choices)
    people = NotificationPersonSerializer(many=True)
    status = serializers.ChoiceField(choices=Notification.Status.choices)
    risk_level = serializers.ChoiceField(
        choices=[("", "Not yet triaged"), *Notification.RiskLevel.choices]
    )
    triaged_at = serializers.DateTimeField(allow_null=True)
    triaged_by = serializers.CharField(allow_null=True)
    rationale = serializers.CharField()
    enquiry = serializers.CharField(
        source="enquiry.reference",
        allow_null=True,
        help_text="The hub enquiry it was referred as (its first, for a family).",
    )
    version = serializers.IntegerField()


# Input


class NotificationPersonInput(RefusesUnknownFields, serializers.Serializer):
    part = serializers.ChoiceField(choices=Notification.Part.choices)
    first_name = FreeTextSerializerField(max_length=domestic_abuse.NAME_LENGTH)
    last_name = FreeTextSerializerField(max_length=domestic_abuse.NAME_LENGTH)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[not_before_earliest]
    )


class NotificationInput(RefusesUnknownFields, serializers.Serializer):
    police_reference = FreeTextSerializerField(max_length=domestic_abuse.REFERENCE_LENGTH)
    incident_at = serializers.DateTimeField(validators=[not_before_earliest])
    address = FreeTextSerializerField(
        max_length=domestic_abuse.ADDRESS_LENGTH, required=False, allow_blank=True, default=""
    )
    summary = FreeTextSerializerField(help_text="What happened, as police recorded it.")
    consent = serializers.ChoiceField(
        choices=Enquiry.Consent.choices, required=False, default=Enquiry.Consent.NOT_SOUGHT
    )
    people = NotificationPersonInput(
        many=True, help_text="Exactly one victim; any alleged perpetrators and children."
    )


class ReceiveInput(RefusesUnknownFields, serializers.Serializer):
    notifications = serializers.ListField(
        child=NotificationInput(), allow_empty=False, max_length=domestic_abuse.MAX_ROWS
    )


class TriageInput(RefusesUnknownFields, serializers.Serializer):
    risk_level = serializers.ChoiceField(choices=Notification.RiskLevel.choices)
    decision = serializers.ChoiceField(choices=list(domestic_abuse.DECISIONS.items()))
    rationale = FreeTextSerializerField(
        required=False, allow_blank=True, default="", help_text="Required for `nfa`."
    )
    lawful_basis = serializers.ChoiceField(
        choices=LawfulBasis.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="For a referral without consent; empty, the usual basis.",
    )
    expected_version = serializers.IntegerField(
        min_value=1,
        help_text="The notification's `version` when you read it. If it has changed since, "
        "nothing is saved and the answer is 409.",
    )


NOT_FOUND = OpenApiResponse(description="No notification you may see has that id; logged.")


def _with_details(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    return notifications.select_related("agency", "triaged_by", "enquiry")


class DomesticAbuseNotificationViewSet(viewsets.GenericViewSet):
    """A police force's domestic-abuse notifications, for its own practitioners."""

    request: SignedInApiRequest
    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema's path parameter only

    def _seen(self, notifications, doing: str) -> None:
        domestic_abuse.log_notifications_seen(
            user=self.request.user, notifications=notifications, channel=API, doing=doing
        )

    def _notification(self, pk: str, doing: str) -> Notification:
        with services.refusals_logged(
            user=self.request.user, action=f"{doing} domestic-abuse notification {pk}", channel=API
        ):
            return firewall.notification_for(self.request.user, pk)

    @extend_schema(
        description="Your force's notifications, new first, oldest first; empty for anyone "
        "but a police practitioner. Pages of 50.",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=Notification.Status.values),
            OpenApiParameter("risk_level", OpenApiTypes.STR, enum=Notification.RiskLevel.values),
        ],
        responses={200: NotificationSerializer(many=True), 400: OpenApiResponse()},
    )
    def list(self, request: SignedInApiRequest) -> Response:
        notifications, form = filtered(
            firewall.domestic_abuse_notifications(request.user), request.query_params
        )
        if not form.is_valid():
            return Response(form.errors, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(_with_details(queue_order(notifications)))
        shown = list(page or [])
        self._seen(shown, "Triaging domestic-abuse notifications")
        return self.get_paginated_response(NotificationSerializer(shown, many=True).data)

    @extend_schema(
        description="One notification of your force.",
        responses={200: NotificationSerializer, 404: NOT_FOUND},
    )
    def retrieve(self, request: SignedInApiRequest, pk: str) -> Response:
        notification = self._notification(pk, "open")
        self._seen([notification], f"Reading notification {notification.police_reference}")
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        description="Police practitioners: receive your force's notifications, "
        '`{"notifications": [...]}`. All or nothing: on any error nothing is saved and the '
        'answer is 400 with `{"notifications": [{field: [message]}, ...]}` by position.',
        request=ReceiveInput,
        responses={
            201: NotificationSerializer(many=True),
            400: OpenApiResponse(description="Errors by position; nothing saved."),
            403: OpenApiResponse(description="Only police practitioners receive them."),
        },
    )
    def create(self, request: SignedInApiRequest) -> Response:
        received = ReceiveInput(data=request.data)
        received.is_valid(raise_exception=True)
        try:
            made = domestic_abuse.receive_notifications(
                actor=request.user, rows=received.validated_data["notifications"]
            )
        except domestic_abuse.BadNotifications as error:
            return Response({"notifications": error.errors}, status=status.HTTP_400_BAD_REQUEST)
        shown = list(_with_details(Notification.objects.filter(pk__in=[n.pk for n in made])))
        self._seen(shown, "Receiving domestic-abuse notifications")
        return Response(NotificationSerializer(shown, many=True).data, status=201)

    @extend_schema(
        description="Grade the risk and refer the notification to the hub (`refer`: a hub "
        "enquiry with its people and concern) or close it (`nfa`, with a rationale).",
        request=TriageInput,
        responses={
            200: NotificationSerializer,
            400: OpenApiResponse(description="Field-level errors: {field: [message]}."),
            403: OpenApiResponse(description="Only your force's practitioners triage it."),
            404: NOT_FOUND,
            409: OpenApiResponse(description="Changed since you read it; nothing saved."),
        },
    )
    @action(detail=True, methods=["post"])
    def triage(self, request: SignedInApiRequest, pk: str) -> Response:
        notification = self._notification(pk, "triage")
        data = TriageInput(data=request.data)
        data.is_valid(raise_exception=True)
        domestic_abuse.triage(
            notification=notification, actor=request.user, channel=API, **data.validated_data
        )
        fresh = _with_details(Notification.objects.filter(pk=notification.pk)).get()
        return Response(NotificationSerializer(fresh).data)
