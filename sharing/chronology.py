"""The agencies' part of a person's chronology (enquiries.people): what each agency was asked
and answered on the person's enquiries, what it holds about the person as the firewall shows
it to the reader (content, or the signpost), and its release decisions. Requests sent together
are one entry. Three queries (four for a practitioner), however many enquiries."""

from collections.abc import Sequence

from agencies.models import User
from enquiries.hooks import ChronologyEntry
from enquiries.models import Person
from enquiries.selectors import user_name

from . import firewall
from .models import InformationRequest, ReleaseDecision

NAME_PARTS = ("first_name", "last_name", "username")


def _name_of(row: dict, who: str) -> str:
    """A user's name as `str(user)` gives it, from a row's `who__first_name`, ... columns."""
    return user_name(*(row[f"{who}__{part}"] or "" for part in NAME_PARTS))


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _information_title(record: firewall.ShownRecord) -> str:
    if record.content_visible:
        withdrawn = " (withdrawn)" if record.is_withdrawn else ""
        return f"{record.agency_name}: {record.summary}{withdrawn}"
    if record.is_withdrawn:
        return f"{record.agency_name}: withdrawn information"
    return f"{record.agency_name}: sensitive information"


def agency_entries(viewer: User, enquiry_ids: Sequence[int], person: Person) -> list:
    if firewall.enquiry_rule(viewer) is not None:
        # The caller narrowed them already; the firewall's own word costs one query.
        enquiry_ids = list(
            firewall.visible_enquiries(viewer)
            .filter(pk__in=enquiry_ids)
            .values_list("pk", flat=True)
        )
    # Rows, not models: a long history holds hundreds of requests.
    requests = InformationRequest.objects.filter(enquiry_id__in=enquiry_ids).values(
        "enquiry_id",
        "agency__name",
        "question",
        "status",
        "requested_at",
        "answered_at",
        *(f"{who}__{part}" for who in ("requested_by", "answered_by") for part in NAME_PARTS),
    )
    entries: list[ChronologyEntry] = []
    asked: dict[tuple, list[dict]] = {}
    for request in requests:
        by = _name_of(request, "requested_by")
        sent_together = (request["enquiry_id"], request["requested_at"], by, request["question"])
        asked.setdefault(sent_together, []).append(request)
        if request["answered_at"] is not None:
            nothing = request["status"] == InformationRequest.Status.NOTHING_HELD
            entries.append(
                ChronologyEntry(
                    at=request["answered_at"],
                    kind="answered",
                    enquiry_id=request["enquiry_id"],
                    title=f"{request['agency__name']} answered"
                    + (": nothing held" if nothing else ""),
                    by=_name_of(request, "answered_by"),
                    order=2,
                )
            )
    for (enquiry_id, at, by, question), batch in asked.items():
        entries.append(
            ChronologyEntry(
                at=at,
                kind="asked",
                enquiry_id=enquiry_id,
                title=f"Information asked of {_listed(sorted(r['agency__name'] for r in batch))}",
                text=question,
                by=by,
                order=1,
            )
        )
    records = firewall.shown_records(
        firewall.visible_records(viewer).filter(enquiry_id__in=enquiry_ids, person=person)
    )
    readable = {record.pk for record in records if record.content_visible}
    for record in records:
        entries.append(
            ChronologyEntry(
                at=record.recorded_at,
                kind="information",
                enquiry_id=record.enquiry_id,
                title=_information_title(record),
                # A withdrawn record's withdrawal stands in for it (firewall.ShownRecord).
                text=record.detail if record.content_visible else record.signpost,
                shown=record,
                order=3,
            )
        )
    decisions = ReleaseDecision.objects.filter(
        record_id__in=[record.pk for record in records]
    ).select_related("record__agency", "decided_by")
    for decision in decisions:
        released = decision.decision == ReleaseDecision.Decision.RELEASED
        entries.append(
            ChronologyEntry(
                at=decision.decided_at,
                kind="released" if released else "refused",
                enquiry_id=decision.record.enquiry_id,
                title=(
                    f"{decision.record.agency.name} released a record to the hub"
                    if released
                    else f"{decision.record.agency.name} refused to release a record"
                ),
                # Why, only to whoever may read the record: a refusal's reason may say what
                # it guards.
                text=decision.reason if decision.record_id in readable else "",
                by=str(decision.decided_by),
                order=4,
            )
        )
    return entries
