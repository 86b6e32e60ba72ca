"""The sharing policy as the hub settings pages change it: previewed (what changes and how
many open information requests' due times move) and applied only if nobody else saved a
change since the preview, with a `HubSettingsChange` saying who, when and why.

A request falls due at the policy's share of its enquiry's allowance (sharing.services
`request_due_at`); the preview recomputes that share for every open request with the clock in
force and compares it with the due time stored on the request. Applying bumps the policy's
version, and the catch-up moves the requests behind it (sharing.timing).
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from agencies.models import Agency, User
from enquiries.clock import clock_in_force
from enquiries.clock_settings import Change, check_reason, record_change, stale_edit
from enquiries.models import HubSettingsChange
from enquiries.tasks import recompute_open_deadlines

from .models import InformationRequest, SharingPolicy
from .services import due_at


@dataclass(frozen=True)
class PolicySettings:
    version: int
    request_due_percent: int
    chase_interval_minutes: int
    lead_agency: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "request_due_percent": self.request_due_percent,
            "chase_interval_minutes": self.chase_interval_minutes,
            "lead_agency": self.lead_agency,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PolicySettings":
        return cls(
            data["version"],
            data["request_due_percent"],
            data["chase_interval_minutes"],
            data["lead_agency"],
        )


def policy_settings() -> PolicySettings:
    policy = SharingPolicy.current()
    return PolicySettings(
        version=policy.version,
        request_due_percent=policy.request_due_percent,
        chase_interval_minutes=policy.chase_interval_minutes,
        lead_agency=policy.lead_agency_id,
    )


def agency_name(pk: int | None) -> str:
    if pk is None:
        return "None"
    agency = Agency.objects.filter(pk=pk).only("name").first()
    return agency.name if agency else "None"


def policy_changes(before: PolicySettings, after: PolicySettings) -> list[Change]:
    changes = []
    if before.request_due_percent != after.request_due_percent:
        changes.append(
            Change(
                "Information requests due at",
                f"{before.request_due_percent}% of the enquiry's allowance",
                f"{after.request_due_percent}% of the enquiry's allowance",
            )
        )
    if before.chase_interval_minutes != after.chase_interval_minutes:
        changes.append(
            Change(
                "Chase overdue requests again after",
                f"{before.chase_interval_minutes} minutes",
                f"{after.chase_interval_minutes} minutes",
            )
        )
    if before.lead_agency != after.lead_agency:
        changes.append(
            Change(
                "Agency that runs the hub",
                agency_name(before.lead_agency),
                agency_name(after.lead_agency),
            )
        )
    return changes


@dataclass(frozen=True)
class PolicyEffect:
    open_count: int
    due_times_moved: int

    @property
    def summary(self) -> str:
        moved = self.due_times_moved
        return (
            f"This will move the due time of {moved} open information "
            f"request{'s' if moved != 1 else ''} (of {self.open_count} open)."
        )


def preview_policy_change(proposed: PolicySettings) -> PolicyEffect:
    """How many open requests' stored due times the proposed share would move (one query)."""
    clock = clock_in_force()
    rows = list(
        InformationRequest.objects.filter(status__in=InformationRequest.OPEN_STATUSES)
        .order_by()
        .values_list(
            "due_at", "enquiry__rating", "enquiry__received_at", "enquiry__allowance_minutes"
        )
    )
    moved = sum(
        due_at(
            clock,
            rating=rating,
            received_at=received_at,
            allowance=allowance,
            percent=proposed.request_due_percent,
        )
        != stored
        for stored, rating, received_at, allowance in rows
    )
    return PolicyEffect(open_count=len(rows), due_times_moved=moved)


@transaction.atomic
def apply_policy_change(*, proposed: PolicySettings, actor: User, reason: str) -> HubSettingsChange:
    """Save `proposed` if the policy is still at the version previewed; otherwise refuse
    (StaleEdit) and save nothing."""
    reason = check_reason(reason)
    SharingPolicy.current()
    policy = SharingPolicy.objects.select_for_update().get(pk=SharingPolicy.current_id)
    current = policy_settings()
    if policy.version != proposed.version:
        raise stale_edit(policy.version)
    changes = policy_changes(current, proposed)
    if not changes:
        raise ValidationError("Nothing has changed: there is nothing to save.")
    if proposed.request_due_percent < 1 or proposed.request_due_percent > 100:
        raise ValidationError({"request_due_percent": "Enter a share between 1% and 100%"})
    effect = preview_policy_change(proposed).summary
    policy.request_due_percent = proposed.request_due_percent
    policy.chase_interval_minutes = proposed.chase_interval_minutes
    policy.lead_agency_id = proposed.lead_agency
    policy.save()
    recompute_open_deadlines.delay_on_commit()
    return record_change(
        area=HubSettingsChange.Area.SHARING,
        actor=actor,
        reason=reason,
        version_before=current.version,
        version_after=policy.version,
        before=current.as_json(),
        after={**proposed.as_json(), "version": policy.version},
        changes=changes,
        effect=effect,
    )
