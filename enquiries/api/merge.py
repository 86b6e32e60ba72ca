"""Merging two records of a person through the API, and undoing it: the services of
`enquiries.merging` behind DRF, for managers. Domain errors become responses in
`core.api.exception_handler` (400 by field, 403, 409 for a stale version)."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import Role, User
from agencies.requests import SignedInApiRequest
from audit import access_log
from audit.models import AccessLogEntry
from core.api import RefusesUnknownFields
from core.text import FreeTextSerializerField

from ..merging import merge_enquiries, merge_undo, people_merge
from ..models import Person, PersonMerge
from .serializers import PersonSerializer, UserSerializer

# Output


class MergePersonSerializer(PersonSerializer):
    version = serializers.IntegerField(
        help_text="Send it back in `expected_versions` with a merge you make."
    )
    merged_into = serializers.IntegerField(
        source="merged_into_id",
        allow_null=True,
        help_text="The id of the person this record was merged into, if it was.",
    )


class MergeSerializer(serializers.Serializer):
    """A merge of two records of one person, and its undo if it was undone."""

    id = serializers.IntegerField()
    survivor = MergePersonSerializer(help_text="The record kept.")
    merged = MergePersonSerializer(help_text="The record merged into it.")
    reason = serializers.CharField()
    merged_by = UserSerializer()
    merged_at = serializers.DateTimeField()
    enquiries = serializers.SerializerMethodField()
    moved = serializers.DictField(
        help_text=(
            "The ids of what moved to the survivor: `involvements`, `deleted_involvements` "
            "(the survivor already had that part; made again on undo), `subjects` (enquiry "
            "ids), `aliases`, `merged_alias`, and `details` copied to the survivor."
        )
    )
    undone_at = serializers.DateTimeField(allow_null=True)
    undone_by = UserSerializer(allow_null=True)
    undo_reason = serializers.CharField()

    def get_enquiries(self, merge: PersonMerge) -> list[str]:
        """The references of the enquiries the merge changed."""
        return merge_enquiries(merge)


# Input


class MergeInputSerializer(RefusesUnknownFields, serializers.Serializer):
    required_by_service = ("reason",)

    other = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        help_text="The id of the record to merge into this one.",
        error_messages={"does_not_exist": "No one in the register has the id {pk_value}."},
    )
    reason = FreeTextSerializerField(
        allow_blank=True, error_messages={"required": "Say why these are the same person."}
    )
    expected_versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=2,
        max_length=2,
        required=False,
        allow_null=True,
        help_text=(
            "[this person's `version`, the other's] as you read them. If either has changed "
            "since, nothing is saved and the answer is 409 with what changed."
        ),
    )


class UndoMergeInputSerializer(RefusesUnknownFields, serializers.Serializer):
    required_by_service = ("reason",)

    reason = FreeTextSerializerField(
        allow_blank=True, error_messages={"required": "Say why this merge was wrong."}
    )


# Views


class Managers(BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.is_authenticated and request.user.has_role(Role.MANAGER)


ERRORS = {
    400: OpenApiResponse(description="Field-level errors: {field: [message]}."),
    403: OpenApiResponse(description="Your role does not allow this (managers only)."),
}


def _log_looked_at(user: User, merge: PersonMerge, doing: str) -> None:
    """The answer shows both people's details."""
    access_log.log_access(
        user=user,
        action=AccessLogEntry.Action.VIEW_PERSON,
        channel=AccessLogEntry.Channel.API,
        person_ids=[merge.survivor_id, merge.merged_id],
        reason=access_log.acting_as(user, doing),
    )


def _valid(request: Request, input_class: type[serializers.Serializer]) -> dict:
    serializer = input_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _answer(merge: PersonMerge, *, answer_status: int = status.HTTP_200_OK) -> Response:
    merge = PersonMerge.objects.select_related("survivor", "merged", "merged_by", "undone_by").get(
        pk=merge.pk
    )
    return Response(MergeSerializer(merge).data, status=answer_status)


class PersonMergeApi(APIView):
    """Merge another record of this person into this one."""

    request: SignedInApiRequest

    permission_classes = [IsAuthenticated, Managers]

    @extend_schema(
        description=(
            "Managers: `other` is found to be this person. Its enquiries, parts in them and "
            "other names move here, its name becomes a merged name, and details this record "
            "lacks (date of birth, NHS number, address) are copied. Agencies' information "
            "about it stays where it was recorded. Each enquiry changed has the merge in its "
            "history. A merge of a person with themselves, or of a record already merged, is "
            "refused."
        ),
        request=MergeInputSerializer,
        responses={
            201: MergeSerializer,
            **ERRORS,
            404: OpenApiResponse(description="No one in the register has that id."),
            409: OpenApiResponse(
                description=(
                    "One of the two changed since you read it; nothing was saved. "
                    '{"detail": ..., "changes": [...], "current_versions": [n, m]}'
                )
            ),
        },
    )
    def post(self, request: SignedInApiRequest, pk: int) -> Response:
        survivor = Person.objects.filter(pk=pk).first()
        if survivor is None:
            raise NotFound("No one in the register has that id.")
        data = _valid(request, MergeInputSerializer)
        versions = data.get("expected_versions")
        merge = people_merge(
            survivor=survivor,
            merged=data["other"],
            actor=request.user,
            reason=data["reason"],
            expected_versions=(versions[0], versions[1]) if versions else None,
        )
        _log_looked_at(request.user, merge, "Merging two records of a person")
        return _answer(merge, answer_status=status.HTTP_201_CREATED)


class PersonMergeUndoApi(APIView):
    """Undo a merge."""

    request: SignedInApiRequest

    permission_classes = [IsAuthenticated, Managers]

    @extend_schema(
        description=(
            "Managers: everything the merge moved goes back to the merged record, exactly "
            "(parts it removed as doubles are made again). Refused if it was already undone, "
            "if the kept record has since been merged into another (undo that first), or if "
            "something it moved has changed since."
        ),
        request=UndoMergeInputSerializer,
        responses={
            200: MergeSerializer,
            **ERRORS,
            404: OpenApiResponse(description="No merge has that id."),
        },
    )
    def post(self, request: SignedInApiRequest, pk: int) -> Response:
        merge = PersonMerge.objects.filter(pk=pk).first()
        if merge is None:
            raise NotFound("No merge has that id.")
        data = _valid(request, UndoMergeInputSerializer)
        merge = merge_undo(merge=merge, actor=request.user, reason=data["reason"])
        _log_looked_at(request.user, merge, "Undoing a merge of two records")
        return _answer(merge)


urlpatterns = [
    path("people/<int:pk>/merge/", PersonMergeApi.as_view(), name="person-merge"),
    path("people/merges/<int:pk>/undo/", PersonMergeUndoApi.as_view(), name="person-merge-undo"),
]
