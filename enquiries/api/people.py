"""The people API: the search, a person, and their chronology: the same selectors and the same
access log as the pages (enquiries.people, enquiries.people_views)."""

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.models import WORKING_ROLES
from agencies.requests import SignedInApiRequest
from audit.access_log import search_terms
from audit.models import AccessLogEntry
from core.api import Pagination, RefusesUnknownFields
from core.dates import not_before_earliest
from core.text import FreeTextSerializerField

from .. import people
from ..hooks import CHRONOLOGY_KINDS
from ..models import EnquiryPerson, Person, PersonAlias, Rag
from ..people_access import log_people_search, log_person_page
from ..people_forms import ChronologyForm, PeopleSearchForm
from .serializers import PersonSerializer

Channel = AccessLogEntry.Channel

ERRORS = {
    400: OpenApiResponse(description="Field-level errors: {field: [message]}."),
    403: OpenApiResponse(description="Your role does not allow this."),
}
NOT_FOUND = OpenApiResponse(description="No person has that id, or none on an enquiry you may see.")


class WorkOnEnquiries(BasePermission):
    message = "Only researchers, managers and agency practitioners look people up."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.is_authenticated and request.user.has_role(*WORKING_ROLES)


class PeopleQuerySerializer(RefusesUnknownFields, serializers.Serializer):
    q = FreeTextSerializerField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=(
            "One search box: a name, a date of birth (3/4/2015 or 2015-04-03), an age "
            '("age 7"), an NHS number or a postcode, or several together.'
        ),
    )
    name = FreeTextSerializerField(required=False, allow_blank=True, max_length=200)
    date_of_birth = serializers.DateField(
        required=False, allow_null=True, validators=[not_before_earliest]
    )
    age = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=120)
    nhs_number = FreeTextSerializerField(required=False, allow_blank=True, max_length=12)
    address = FreeTextSerializerField(required=False, allow_blank=True, max_length=200)
    page = serializers.IntegerField(required=False, min_value=1, max_value=400)


class PersonEnquirySerializer(serializers.Serializer):
    reference = serializers.CharField(source="enquiry.reference")
    part = serializers.ChoiceField(source="role", choices=EnquiryPerson.Role.choices)
    received_at = serializers.DateTimeField(source="enquiry.received_at")
    state = serializers.CharField(source="enquiry.state")
    rating = serializers.ChoiceField(source="enquiry.rating", choices=Rag.choices)
    outcome = serializers.CharField(source="enquiry.outcome.name", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(source="enquiry.decided_at", allow_null=True)


class AliasSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PersonAlias.Kind.choices)
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class PersonDetailSerializer(PersonSerializer):
    nhs_number = serializers.CharField()
    address = serializers.CharField()
    version = serializers.IntegerField()
    merged_into = serializers.IntegerField(
        source="merged_into_id",
        allow_null=True,
        help_text="The person this record was merged into: read that one instead.",
    )
    aliases = AliasSerializer(many=True, source="aliases.all")


class FoundPersonSerializer(serializers.Serializer):
    person = PersonDetailSerializer()
    enquiries = PersonEnquirySerializer(many=True, source="parts")


class PeopleResultsSerializer(serializers.Serializer):
    results = FoundPersonSerializer(many=True, source="found")
    page = serializers.IntegerField()
    next = serializers.CharField(allow_null=True, help_text="The next page's address, if any.")
    previous = serializers.CharField(allow_null=True)


class RelationshipSerializer(serializers.Serializer):
    person = PersonSerializer()
    group = serializers.CharField(help_text='"Family" or "Household and others".')
    parts = serializers.ListField(child=serializers.CharField())
    enquiries = serializers.IntegerField(help_text="Enquiries they are both named in.")


class PersonPageSerializer(serializers.Serializer):
    person = PersonDetailSerializer()
    enquiries = PersonEnquirySerializer(many=True, source="parts")
    relationships = RelationshipSerializer(many=True)


class ChronologyEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=list(CHRONOLOGY_KINDS.items()))
    enquiry = serializers.SerializerMethodField()
    title = serializers.CharField()
    text = serializers.CharField(
        help_text="What you may read of it: for agency information, its content or its signpost."
    )
    by = serializers.CharField()

    def get_enquiry(self, entry) -> str:
        return self.context["references"][entry.enquiry_id]


class ChronologyPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ChronologyEntrySerializer(many=True)


class ChronologyQuerySerializer(RefusesUnknownFields, serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    kind = serializers.ListField(
        child=serializers.ChoiceField(choices=list(CHRONOLOGY_KINDS.items())), required=False
    )


def _form_errors(form) -> ValidationError:
    return ValidationError({field: list(errors) for field, errors in form.errors.items()})


class PeopleSearch(APIView):
    """Find people by name (with other and previous names), date of birth or age, NHS
    number and address or postcode; each with their enquiries you may see, newest first."""

    request: SignedInApiRequest
    permission_classes = [IsAuthenticated, WorkOnEnquiries]

    @extend_schema(
        operation_id="people_search",
        parameters=[PeopleQuerySerializer],
        responses={200: PeopleResultsSerializer, **ERRORS},
    )
    def get(self, request: SignedInApiRequest) -> Response:
        params = PeopleQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        form = PeopleSearchForm(
            {key: value for key, value in params.validated_data.items() if value is not None}
        )
        if not form.is_valid():
            raise _form_errors(form)
        if not form.query:
            raise ValidationError({"q": ["Say whom to look for."]})
        results = people.search_people(
            form.query, viewer=request.user, today=timezone.localdate(), page=form.page_number
        )
        log_people_search(
            user=request.user,
            channel=Channel.API,
            terms=search_terms(**form.query.terms()),
            found=results.found,
        )
        return Response(
            PeopleResultsSerializer(
                {
                    "found": results.found,
                    "page": results.page,
                    "next": self._page(request, results.page + 1) if results.has_next else None,
                    "previous": (
                        self._page(request, results.page - 1) if results.has_previous else None
                    ),
                }
            ).data
        )

    @staticmethod
    def _page(request: SignedInApiRequest, number: int) -> str:
        params = request.query_params.copy()
        params["page"] = str(number)
        return request.build_absolute_uri(f"{reverse('api:person-list')}?{params.urlencode()}")


def _person(request: SignedInApiRequest, pk: int) -> Person:
    try:
        return people.person_for_page(pk, viewer=request.user)
    except Person.DoesNotExist:
        raise NotFound("No person has that id.") from None


def _chronology_filters(request: SignedInApiRequest) -> people.ChronologyFilters:
    data: dict = {key: request.query_params[key] for key in request.query_params}
    if "kind" in data:
        data["kind"] = request.query_params.getlist("kind")
    params = ChronologyQuerySerializer(data=data)
    params.is_valid(raise_exception=True)
    form = ChronologyForm(
        {
            **{
                key: value
                for key, value in params.validated_data.items()
                if key in ("start", "end")
            },
            "kind": params.validated_data.get("kind", []),
        }
    )
    if not form.is_valid():
        raise _form_errors(form)
    return form.filters


class PersonDetail(APIView):
    """One person: details, other names, every enquiry about them you may see with their
    part, and who they appear with. Logged in the access log as a look at a person."""

    request: SignedInApiRequest
    permission_classes = [IsAuthenticated, WorkOnEnquiries]

    @extend_schema(
        operation_id="people_retrieve",
        responses={200: PersonPageSerializer, 403: ERRORS[403], 404: NOT_FOUND},
    )
    def get(self, request: SignedInApiRequest, pk: int) -> Response:
        person = _person(request, pk)
        page = people.person_page(person, viewer=request.user, with_chronology=False)
        log_person_page(user=request.user, channel=Channel.API, person=person, shown=())
        return Response(PersonPageSerializer(page).data)


class PersonChronology(APIView):
    """A person's chronology, oldest first, in pages of 50 (`page_size` up to 200): what
    happened across their enquiries, with each agency's information as the firewall shows it
    to you (content or signpost). Filter by `start` and `end` dates and by `kind` (repeat it
    for several)."""

    request: SignedInApiRequest
    permission_classes = [IsAuthenticated, WorkOnEnquiries]

    pagination_class = Pagination

    @extend_schema(
        operation_id="people_chronology",
        parameters=[ChronologyQuerySerializer],
        responses={
            200: ChronologyPageSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            404: NOT_FOUND,
        },
    )
    def get(self, request: SignedInApiRequest, pk: int) -> Response:
        person = _person(request, pk)
        filters = _chronology_filters(request)
        chronology = people.person_page(person, viewer=request.user, filters=filters).chronology
        paginator = self.pagination_class()
        entries = paginator.paginate_queryset(chronology.entries, request, view=self) or []
        log_person_page(
            user=request.user,
            channel=Channel.API,
            person=person,
            shown=[entry.shown for entry in entries if entry.shown is not None],
        )
        return paginator.get_paginated_response(
            ChronologyEntrySerializer(
                entries, many=True, context={"references": chronology.references}
            ).data
        )
