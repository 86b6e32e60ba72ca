"""Onward referrals through the API: the services of `enquiries.referrals` behind DRF, for
the hub only (docs/domain.md 6.2). Domain errors become responses in
`core.api.exception_handler` (400 by field, 403, 409 for a stale version)."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.permissions import HoldsAHubRole
from agencies.requests import SignedInApiRequest
from audit.models import AccessLogEntry
from core.api import RefusesUnknownFields
from core.dates import not_before_earliest
from core.text import FreeTextSerializerField

from .. import referrals
from ..models import Enquiry, OnwardReferral
from .serializers import UserSerializer, VersionedSerializer
from .views import VERSIONED_ERRORS, Managers, TriageStaff

# Output


class OnwardReferralSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    destination = serializers.ChoiceField(choices=OnwardReferral.Destination.choices)
    team = serializers.CharField()
    method = serializers.ChoiceField(choices=OnwardReferral.Method.choices)
    sent_at = serializers.DateTimeField()
    sent_by = UserSerializer()
    note = serializers.CharField()
    picture_compiled_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=OnwardReferral.Status.choices)
    answered_at = serializers.DateTimeField(allow_null=True)
    answered_by_name = serializers.CharField()
    answer_recorded_by = UserSerializer(allow_null=True)
    returned_reason = serializers.CharField()
    version = serializers.IntegerField(
        help_text="Send it back as `expected_version` when recording the answer."
    )


# Input


class ReferOnSerializer(VersionedSerializer):
    destination = serializers.ChoiceField(choices=OnwardReferral.Destination.choices)
    method = serializers.ChoiceField(choices=OnwardReferral.Method.choices)
    team = FreeTextSerializerField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The receiving team or authority; required for another local authority.",
    )
    note = FreeTextSerializerField(required=False, allow_blank=True)
    sent_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        validators=[not_before_earliest],
        help_text="Leave out for now.",
    )


class ReferralAnswerSerializer(RefusesUnknownFields, serializers.Serializer):
    expected_version = serializers.IntegerField(
        min_value=1, help_text="The referral's `version` as you read it."
    )
    accepted = serializers.BooleanField(help_text="True if accepted, false if returned.")
    returned_reason = FreeTextSerializerField(
        required=False, allow_blank=True, help_text="Required when it was returned."
    )
    answered_by_name = FreeTextSerializerField(max_length=200, required=False, allow_blank=True)
    answered_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        validators=[not_before_earliest],
        help_text="Leave out for now.",
    )


def _enquiry(reference: str) -> Enquiry:
    try:
        return Enquiry.objects.select_related("outcome").get(reference=reference)
    except Enquiry.DoesNotExist:
        raise NotFound("No enquiry has that reference.") from None


def _referral(enquiry: Enquiry, pk: int) -> OnwardReferral:
    return get_object_or_404(referrals.referrals_of(enquiry), pk=pk)


NOT_FOUND = OpenApiResponse(description="No enquiry has that reference, or no such referral.")
HUB_ONLY = OpenApiResponse(description="Only the hub's researchers and managers.")


class ReferralList(APIView):
    """An enquiry's onward referrals; a manager records a new one, with the picture compiled
    for them as it is sent."""

    request: SignedInApiRequest

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), HoldsAHubRole(), Managers()]
        return [IsAuthenticated(), HoldsAHubRole(), TriageStaff()]

    @extend_schema(
        operation_id="enquiries_referrals_list",
        responses={200: OnwardReferralSerializer(many=True), 403: HUB_ONLY, 404: NOT_FOUND},
    )
    def get(self, request: SignedInApiRequest, reference: str) -> Response:
        found = referrals.referrals_of(_enquiry(reference))
        return Response(OnwardReferralSerializer(found, many=True).data)

    @extend_schema(
        operation_id="enquiries_referrals_create",
        request=ReferOnSerializer,
        responses={201: OnwardReferralSerializer, **VERSIONED_ERRORS},
    )
    def post(self, request: SignedInApiRequest, reference: str) -> Response:
        given = ReferOnSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        referral = referrals.refer_on(
            enquiry=_enquiry(reference), actor=request.user, **given.validated_data
        )
        return Response(OnwardReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


class ReferralAnswer(APIView):
    """The receiving team's answer: accepted, or returned with a reason. Recorded once."""

    request: SignedInApiRequest
    permission_classes = [IsAuthenticated, HoldsAHubRole, TriageStaff]

    @extend_schema(
        operation_id="enquiries_referrals_answer",
        request=ReferralAnswerSerializer,
        responses={200: OnwardReferralSerializer, **VERSIONED_ERRORS},
    )
    def post(self, request: SignedInApiRequest, reference: str, pk: int) -> Response:
        given = ReferralAnswerSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        referral = referrals.record_referral_answer(
            referral=_referral(_enquiry(reference), pk), actor=request.user, **given.validated_data
        )
        return Response(OnwardReferralSerializer(referral).data)


class ReferralPicture(APIView):
    """The picture exactly as it was sent with the referral, as a PDF; logged as an export."""

    request: SignedInApiRequest
    permission_classes = [IsAuthenticated, HoldsAHubRole, TriageStaff]

    @extend_schema(
        operation_id="enquiries_referrals_picture",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            403: HUB_ONLY,
            404: NOT_FOUND,
        },
    )
    def get(self, request: SignedInApiRequest, reference: str, pk: int) -> HttpResponse:
        enquiry = _enquiry(reference)
        referral = _referral(enquiry, pk)
        pdf = referrals.referral_picture(
            referral=referral, reader=request.user, channel=AccessLogEntry.Channel.API
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{enquiry.reference}-picture-sent-{referral.sent_at:%Y%m%d}.pdf"'
        )
        response["Cache-Control"] = "no-store"
        return response


urlpatterns = [
    path(
        "enquiries/<str:reference>/referrals/",
        ReferralList.as_view(),
        name="enquiry-referral-list",
    ),
    path(
        "enquiries/<str:reference>/referrals/<int:pk>/answer/",
        ReferralAnswer.as_view(),
        name="enquiry-referral-answer-api",
    ),
    path(
        "enquiries/<str:reference>/referrals/<int:pk>/picture/",
        ReferralPicture.as_view(),
        name="enquiry-referral-picture-api",
    ),
]
