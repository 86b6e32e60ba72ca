"""The sharing API's shapes. Input serializers check the shape of a request; the services and
the firewall decide. Output serializers read what the views fetched, with no queries: a record
is a `firewall.ShownRecord`, whose hidden content never left the database."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agencies.models import Agency
from core.api import RefusesUnknownFields
from core.dates import not_before_earliest
from core.text import FreeTextSerializerField
from enquiries.api.serializers import PersonSerializer, UserSerializer
from enquiries.models import Enquiry, Person

from .. import firewall, services
from ..firewall import Action, ShownRecord
from ..models import InformationRequest, LawfulBasis, ReleaseStatus, Sensitivity

# What a person may do, by the name the API gives it (each is an action's URL).
RECORD_ACTIONS = {
    "request_release": Action.REQUEST_RELEASE,
    "release": Action.RELEASE,
    "refuse": Action.REFUSE,
    "correct": Action.CORRECT,
    "withdraw": Action.WITHDRAW,
}
RECORD_ACTION_NAMES = tuple(RECORD_ACTIONS)
REQUEST_ACTIONS = ("add_record", "answer", "nothing_held", "withdraw")

# Output


class AgencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InformationRequestSerializer(serializers.Serializer):
    """A request as every list shows it. The view annotates `has_records` and passes the user
    in the context as `user`."""

    id = serializers.IntegerField()
    enquiry = serializers.CharField(source="enquiry.reference", help_text="Its reference.")
    agency = AgencySerializer()
    question = serializers.CharField()
    people = PersonSerializer(source="people.all", many=True)
    status = serializers.ChoiceField(choices=InformationRequest.Status.choices)
    requested_at = serializers.DateTimeField()
    requested_by = UserSerializer()
    due_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    answered_by = UserSerializer(allow_null=True)
    response_minutes = serializers.IntegerField(
        allow_null=True, help_text="Working minutes from the request to the agency's answer."
    )
    chase_count = serializers.IntegerField()
    last_chased_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawn_by = UserSerializer(allow_null=True)
    withdrawal_reason = serializers.SerializerMethodField(
        help_text="Why the hub withdrew it, for the hub and the agency asked; empty unless "
        "withdrawn, and for anyone else."
    )
    version = serializers.IntegerField(
        help_text="Send it back as `expected_version` when you answer."
    )
    actions = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_withdrawal_reason(self, request: InformationRequest) -> str:
        if not firewall.may_read_withdrawal_reason(self.context["user"], request):
            return ""
        return request.withdrawal_reason

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=REQUEST_ACTIONS))
    )
    def get_actions(self, request: InformationRequest) -> list[str]:
        user = self.context["user"]
        if request.is_open and firewall.withdraw_refusal(user, request) is None:
            return ["withdraw"]
        if firewall.answer_refusal(user, request) is not None:
            # After the hub withdrew it, the agency may still add a record.
            return ["add_record"] if firewall.add_record_refusal(user, request) is None else []
        has_records = request.has_records  # type: ignore[attr-defined]  # the view annotates it
        return ["add_record", "answer" if has_records else "nothing_held"]


class RecordAgencySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="agency_id")
    name = serializers.CharField(source="agency_name")


class RecordPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="person_id")
    name = serializers.CharField(source="person_name")


class RecordContentSerializer(serializers.Serializer):
    summary = serializers.CharField()
    detail = serializers.CharField()
    source_system = serializers.CharField()
    conditions = serializers.CharField(
        help_text="The owning agency's conditions on how the hub may use a released record."
    )


class RecordWithdrawalOutputSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="withdrawn_at")
    reason = serializers.CharField(source="withdrawal_reason")
    notice = serializers.CharField(
        source="withdrawal_notice", help_text="“Withdrawn by ... on ...: reason”."
    )


class InformationRecordSerializer(serializers.Serializer):
    """A record as the firewall shows it to the user (in the context as `user`): its content,
    or, where the owning agency has not released it, a signpost and `content` null."""

    id = serializers.IntegerField(source="pk")
    enquiry = serializers.CharField(source="enquiry_reference", help_text="Its reference.")
    request = serializers.IntegerField(source="request_id")
    agency = RecordAgencySerializer(source="*")
    person = RecordPersonSerializer(source="*")
    information_date = serializers.DateField()
    recorded_at = serializers.DateTimeField()
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices)
    release_status = serializers.ChoiceField(choices=ReleaseStatus.choices)
    content = serializers.SerializerMethodField()
    signpost = serializers.SerializerMethodField()
    withdrawn = serializers.SerializerMethodField()
    added_after_withdrawal = serializers.BooleanField(
        help_text="Added after the hub withdrew its request: kept, reopening nothing."
    )
    version = serializers.IntegerField(
        help_text="Send it back as `expected_version` when you correct or withdraw it."
    )
    actions = serializers.SerializerMethodField()

    @extend_schema_field(RecordWithdrawalOutputSerializer(allow_null=True))
    def get_withdrawn(self, record: ShownRecord) -> dict | None:
        if not record.is_withdrawn:
            return None
        return RecordWithdrawalOutputSerializer(record).data

    @extend_schema_field(RecordContentSerializer(allow_null=True))
    def get_content(self, record: ShownRecord) -> dict | None:
        return None if record.is_signpost else RecordContentSerializer(record).data

    @extend_schema_field(
        serializers.CharField(
            allow_null=True,
            help_text="Who holds what and how to ask for it, when the content is not yours "
            "to read; for a withdrawn record, who withdrew it, when and why.",
        )
    )
    def get_signpost(self, record: ShownRecord) -> str | None:
        return record.signpost if record.is_signpost else None

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=RECORD_ACTION_NAMES))
    )
    def get_actions(self, record: ShownRecord) -> list[str]:
        user = self.context["user"]
        return [
            name for name, action in RECORD_ACTIONS.items() if firewall.can(user, action, record)
        ]


# Input


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "integer"}},
            {"type": "string", "enum": ["usual"]},
        ],
        "description": "Agency ids, or `usual` for the hub's usual set.",
    }
)
class AgenciesField(serializers.Field):
    """Agency ids, or "usual" for the agencies the hub asks about every enquiry."""

    default_error_messages = {
        "invalid": "Give a list of agency ids, or “usual”.",
        "does_not_exist": "There is no agency with the id {pk}.",
        "too_many": "Give at most {limit} agencies.",
    }
    LIMIT = 100

    def to_internal_value(self, data) -> list[Agency]:
        if data == "usual":
            return list(services.usual_agencies())
        if not isinstance(data, list) or not all(
            isinstance(pk, int) and not isinstance(pk, bool) for pk in data
        ):
            self.fail("invalid")
        if len(data) > self.LIMIT:
            self.fail("too_many", limit=self.LIMIT)
        agencies = Agency.objects.in_bulk(data)
        for pk in data:
            if pk not in agencies:
                self.fail("does_not_exist", pk=pk)
        return [agencies[pk] for pk in dict.fromkeys(data)]

    def to_representation(self, value):
        return [agency.pk for agency in value]


class SendRequestsSerializer(RefusesUnknownFields, serializers.Serializer):
    """Ask agencies what they hold about the people in an enquiry."""

    enquiry = serializers.SlugRelatedField(
        slug_field="reference",
        queryset=Enquiry.objects.none(),
        help_text="The enquiry's reference.",
        error_messages={"does_not_exist": "No enquiry has the reference {value}."},
    )
    agencies = AgenciesField(help_text="Agencies already asked about the enquiry are skipped.")
    question = FreeTextSerializerField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Leave out for the hub's standard question.",
    )
    people = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=100,
        required=False,
        default=list,
        help_text="Ids of people named in the enquiry; leave out for all of them.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.context:
            self.fields["enquiry"].queryset = firewall.visible_enquiries(self.context["user"])

    def validate_people(self, ids: list[int]) -> list[Person]:
        people = Person.objects.in_bulk(ids)
        missing = [str(pk) for pk in ids if pk not in people]
        if missing:
            raise serializers.ValidationError(f"Nobody has the id {', '.join(missing)}.")
        return [people[pk] for pk in dict.fromkeys(ids)]


class RecordInputSerializer(RefusesUnknownFields, serializers.Serializer):
    """What the agency holds about one person in the enquiry. The service checks each field
    and says what is missing, so blanks reach it."""

    required_by_service: tuple[str, ...] = (
        "person",
        "summary",
        "detail",
        "source_system",
        "information_date",
        "sensitivity",
    )

    person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The id of someone named in the enquiry.",
        error_messages={"does_not_exist": "Choose someone named in this enquiry."},
    )
    summary = FreeTextSerializerField(max_length=200, required=False, allow_blank=True, default="")
    detail = FreeTextSerializerField(required=False, allow_blank=True, default="")
    source_system = FreeTextSerializerField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Which of your agency's systems it comes from.",
    )
    information_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        validators=[not_before_earliest],
        help_text="When your agency recorded the information.",
    )
    sensitivity = serializers.ChoiceField(
        choices=Sensitivity.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Sensitive content stays with your agency until one of its practitioners "
        "releases it.",
    )


class AnswerSerializer(RefusesUnknownFields, serializers.Serializer):
    expected_version = serializers.IntegerField(
        min_value=1,
        help_text=(
            "The request's `version` when you read it. If it has changed since, nothing is "
            "saved and the answer is 409."
        ),
    )


def _reason(help_text: str) -> serializers.CharField:
    return FreeTextSerializerField(
        required=False, allow_blank=True, default="", help_text=help_text
    )


class ReleaseRequestSerializer(RefusesUnknownFields, serializers.Serializer):
    required_by_service = ("reason",)

    reason = _reason("Why the hub needs this information.")


class ReleaseSerializer(RefusesUnknownFields, serializers.Serializer):
    required_by_service = ("reason", "necessary_and_proportionate", "lawful_basis", "password")

    reason = _reason("Why releasing this is necessary and proportionate.")
    necessary_and_proportionate = serializers.BooleanField(
        required=False,
        default=False,
        help_text="True: you are satisfied that releasing it is necessary and proportionate, "
        "and that you have the authority to share.",
    )
    lawful_basis = serializers.ChoiceField(
        choices=LawfulBasis.choices, required=False, allow_blank=True, default=""
    )
    conditions = FreeTextSerializerField(
        required=False,
        allow_blank=True,
        default="",
        help_text="How the hub may use it; shown with the content from now on.",
    )
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Your own password again (step-up): a release needs it, whether you call "
        "with a session or a token.",
    )


class RefuseSerializer(RefusesUnknownFields, serializers.Serializer):
    required_by_service = ("reason",)

    reason = _reason("Why your agency will not release this.")


class RecordCorrectionSerializer(RecordInputSerializer):
    """The whole record as it should be. `reason` is required once someone outside your
    agency has read the record; then the hub is told your reason (never the content)."""

    # The person may stay as it is; the rest is the whole record again.
    required_by_service = tuple(
        name for name in RecordInputSerializer.required_by_service if name != "person"
    )

    conditions = FreeTextSerializerField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Conditions on its use, shown with the content.",
    )
    reason = _reason(
        "Why you are correcting it: required once someone outside your agency has read it."
    )
    expected_version = serializers.IntegerField(
        min_value=1,
        help_text="The record's `version` when you read it. If it has changed since, nothing "
        "is saved and the answer is 409.",
    )


class RecordWithdrawalSerializer(RefusesUnknownFields, serializers.Serializer):
    reason = _reason(
        "Why you are withdrawing it: required once someone outside your agency has read it."
    )
    expected_version = serializers.IntegerField(
        min_value=1,
        help_text="The record's `version` when you read it. If it has changed since, nothing "
        "is saved and the answer is 409.",
    )


class RequestWithdrawalSerializer(RefusesUnknownFields, serializers.Serializer):
    required_by_service = ("reason",)

    reason = _reason("Why the hub no longer needs the answer: the agency is told it.")
    expected_version = serializers.IntegerField(
        min_value=1,
        help_text="The request's `version` when you read it. If it has changed since, nothing "
        "is saved and the answer is 409.",
    )
