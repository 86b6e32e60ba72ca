"""The hub's clock and escalation settings as the hub settings pages change them: read as
plain values, previewed (what changes and how many open deadlines it moves) and applied only
if nobody else saved a change since the preview.

The preview computes the proposed clock with the same pure arithmetic as the clock in force
(enquiries.clock, enquiries.worktime) and compares it, enquiry by enquiry, with the deadline
stored on each open enquiry: one query and a few microseconds an enquiry. Applying saves the
rows as the admin did, which bumps the clock's version, and queues the catch-up that puts the
new clock on open enquiries (enquiries.timing); an append-only `HubSettingsChange` says who
changed what, when and why.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from math import ceil
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agencies.models import Role, User
from core.exceptions import StaleEdit

from . import hooks, worktime
from .clock import Allowance, ClockInForce
from .models import (
    HUB_CLOCK_ID,
    ClosureDay,
    Enquiry,
    EscalationContact,
    EscalationPolicy,
    HubClock,
    HubSettingsChange,
    OpeningHours,
    Rag,
    RagAllowance,
    Weekday,
    opening_week,
)
from .tasks import recompute_open_deadlines

RATINGS = [Rag.RED, Rag.AMBER, Rag.GREEN, Rag.NONE]
Area = HubSettingsChange.Area


@dataclass(frozen=True)
class Change:
    """One setting as it is and as it would be, in words."""

    what: str
    old: str
    new: str


@dataclass(frozen=True)
class ClockSettings:
    """Everything the hub clock's timing depends on, as plain values, at one version."""

    version: int
    time_zone: str
    bank_holidays: str
    at_risk_percent: int
    week: worktime.Week
    closures: tuple[tuple[date, str], ...]  # (date, reason), in date order
    allowances: dict[str, tuple[int, str]] = field(hash=False)  # rating: (minutes, clock)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "time_zone": self.time_zone,
            "bank_holidays": self.bank_holidays,
            "at_risk_percent": self.at_risk_percent,
            "week": [[list(interval) for interval in day] for day in self.week],
            "closures": [[day.isoformat(), reason] for day, reason in self.closures],
            "allowances": {rating: list(value) for rating, value in self.allowances.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ClockSettings":
        return cls(
            version=data["version"],
            time_zone=data["time_zone"],
            bank_holidays=data["bank_holidays"],
            at_risk_percent=data["at_risk_percent"],
            week=tuple(tuple((opens, closes) for opens, closes in day) for day in data["week"]),
            closures=tuple((date.fromisoformat(day), reason) for day, reason in data["closures"]),
            allowances={
                rating: (minutes, clock) for rating, (minutes, clock) in data["allowances"].items()
            },
        )

    def with_closure(self, day: date, reason: str) -> "ClockSettings":
        closures = {**dict(self.closures), day: reason}
        return replace(self, closures=tuple(sorted(closures.items())))

    def without_closure(self, day: date) -> "ClockSettings":
        return replace(self, closures=tuple(item for item in self.closures if item[0] != day))


def clock_settings() -> ClockSettings:
    """The clock's settings as saved now (four queries)."""
    hub = HubClock.objects.get(pk=HUB_CLOCK_ID)
    allowances = {row.rating: (row.minutes, row.clock) for row in hub.ragallowance_set.all()}
    return ClockSettings(
        version=hub.version,
        time_zone=hub.time_zone,
        bank_holidays=hub.bank_holidays,
        at_risk_percent=hub.at_risk_percent,
        week=opening_week(hub.openinghours_set.all()),
        closures=tuple(hub.closureday_set.order_by("date").values_list("date", "reason")),
        allowances={rating: allowances[rating] for rating in RATINGS if rating in allowances},
    )


def clock_for(proposed: ClockSettings) -> ClockInForce:
    """The clock these settings would put in force (pure: no query). ValueError when the
    arithmetic refuses them (no working time in the week, a closure out of its years)."""
    nation = (
        None if proposed.bank_holidays == HubClock.BankHolidays.NONE else proposed.bank_holidays
    )
    zone = worktime.resolve_zone(proposed.time_zone)
    return ClockInForce(
        version=proposed.version,
        calendar=worktime.WorkingCalendar(
            tz=zone,
            week=proposed.week,
            nation=cast(worktime.Nation | None, nation),
            closures=frozenset(day for day, _ in proposed.closures),
        ),
        continuous=worktime.ContinuousCalendar(tz=zone),
        allowances={
            rating: Allowance(minutes, clock == RagAllowance.Clock.CONTINUOUS)
            for rating, (minutes, clock) in proposed.allowances.items()
        },
        at_risk_percent=proposed.at_risk_percent,
    )


def check_clock(proposed: ClockSettings) -> None:
    """Refuse settings the clock cannot work with, in the users' words."""
    try:
        clock = clock_for(proposed)
        # A week with no working minute at all is found only by counting one.
        worktime.add_working_minutes(clock.calendar, timezone.now(), 1)
    except ValueError as error:
        raise ValidationError(f"The hub's clock cannot use these settings: {error}.") from error


# Saying what changes.


def _minute(minute: int) -> str:
    return (
        "midnight"
        if minute == worktime.MINUTES_PER_DAY
        else f"{minute // 60:02d}:{minute % 60:02d}"
    )


def day_in_words(day: worktime.DayHours) -> str:
    if not day:
        return "Closed"
    return ", ".join(f"{_minute(opens)} to {_minute(closes)}" for opens, closes in day)


def day_as_text(day: worktime.DayHours) -> str:
    """As typed on the opening hours page: 09:00-17:00, several separated by commas."""
    return ", ".join(f"{_minute(o)}-{_minute(c)}".replace("midnight", "24:00") for o, c in day)


def closure_in_words(day: date, reason: str) -> str:
    return f"{day:%-d %B %Y}" + (f" ({reason})" if reason else "")


def allowance_in_words(minutes: int, clock: str) -> str:
    kind = (
        "continuous clock (24/7)" if clock == RagAllowance.Clock.CONTINUOUS else "working minutes"
    )
    return f"{minutes} minutes, {kind}"


def clock_changes(before: ClockSettings, after: ClockSettings) -> list[Change]:
    changes = []
    if before.time_zone != after.time_zone:
        changes.append(Change("Time zone", before.time_zone, after.time_zone))
    if before.bank_holidays != after.bank_holidays:
        label = dict(HubClock.BankHolidays.choices)
        changes.append(
            Change("Bank holidays", label[before.bank_holidays], label[after.bank_holidays])
        )
    for weekday in Weekday:
        old, new = before.week[weekday], after.week[weekday]
        if old != new:
            changes.append(
                Change(f"{weekday.label} opening hours", day_in_words(old), day_in_words(new))
            )
    old_closures, new_closures = dict(before.closures), dict(after.closures)
    for day in sorted(old_closures.keys() - new_closures.keys()):
        changes.append(Change("Closure day", closure_in_words(day, old_closures[day]), "Removed"))
    for day in sorted(new_closures.keys() - old_closures.keys()):
        changes.append(Change("Closure day", "None", closure_in_words(day, new_closures[day])))
    for day in sorted(old_closures.keys() & new_closures.keys()):
        if old_closures[day] != new_closures[day]:
            changes.append(
                Change(
                    "Closure day",
                    closure_in_words(day, old_closures[day]),
                    closure_in_words(day, new_closures[day]),
                )
            )
    for rating in RATINGS:
        old_allowance, new_allowance = before.allowances.get(rating), after.allowances.get(rating)
        if old_allowance != new_allowance and new_allowance is not None:
            changes.append(
                Change(
                    f"{Rag(rating).label} allowance",
                    allowance_in_words(*old_allowance) if old_allowance else "None",
                    allowance_in_words(*new_allowance),
                )
            )
    if before.at_risk_percent != after.at_risk_percent:
        changes.append(
            Change(
                "At risk from",
                f"{before.at_risk_percent}% of the allowance",
                f"{after.at_risk_percent}% of the allowance",
            )
        )
    return changes


# Preview.


@dataclass(frozen=True)
class DependentMove:
    """Of the open times a layer above keeps to the clock (`hooks.DependentTiming`), how many
    a change would move: "information requests", 2 of 5."""

    label: str
    moved: int
    open_count: int


@dataclass(frozen=True)
class Effect:
    """What a change would move, counted over the open work it touches: the enquiries'
    deadlines and at-risk times, and what falls due with them (`dependents`)."""

    open_count: int
    deadlines_moved: int
    at_risk_moved: int = 0
    dependents: tuple[DependentMove, ...] = ()

    @property
    def summary(self) -> str:
        deadlines = (
            f"{self.deadlines_moved} open deadline{'s' if self.deadlines_moved != 1 else ''}"
        )
        text = f"This will move {deadlines} (of {self.open_count} open enquiries)"
        if self.at_risk_moved:
            text += (
                f" and when {self.at_risk_moved} open "
                f"enquir{'ies' if self.at_risk_moved != 1 else 'y'} turn at risk"
            )
        for dependent in self.dependents:
            if dependent.open_count:
                text += (
                    f", and the due times of {dependent.moved} of {dependent.open_count} open "
                    f"{dependent.label}"
                )
        return text + "."


def open_enquiry_timings() -> list[tuple[str, datetime, datetime, datetime]]:
    """Every open enquiry's rating, receipt, and stored deadline and at-risk time (one
    query, on the open-states index)."""
    return list(
        Enquiry.objects.filter(state__in=Enquiry.OPEN_STATES)
        .order_by()
        .values_list("rating", "received_at", "deadline", "at_risk_from")
    )


def moved_by(clock: ClockInForce, timings) -> Effect:
    """How many stored deadlines (and at-risk times) `clock` would put elsewhere, and of the
    times that fall due with them (`hooks.dependent_timings`)."""
    deadlines = at_risk = 0
    for rating, received_at, deadline, at_risk_from in timings:
        calendar = clock.calendar_for(rating)
        allowance = clock.allowances[rating].minutes
        if worktime.add_working_minutes(calendar, received_at, allowance) != deadline:
            deadlines += 1
        at_risk_minutes = ceil(allowance * clock.at_risk_percent / 100)
        if worktime.add_working_minutes(calendar, received_at, at_risk_minutes) != at_risk_from:
            at_risk += 1
    dependents = tuple(
        DependentMove(dependent.label, *dependent.moved_by(clock))
        for dependent in hooks.dependent_timings
        if dependent.moved_by is not None
    )
    return Effect(
        open_count=len(timings),
        deadlines_moved=deadlines,
        at_risk_moved=at_risk,
        dependents=dependents,
    )


def preview_clock_change(proposed: ClockSettings) -> Effect:
    check_clock(proposed)
    return moved_by(clock_for(proposed), open_enquiry_timings())


# Applying.


def record_change(
    *,
    area: str,
    actor: User,
    reason: str,
    version_before: int,
    version_after: int,
    before: dict,
    after: dict,
    changes: list[Change],
    effect: str,
) -> HubSettingsChange:
    return HubSettingsChange.objects.create(
        area=area,
        changed_by=actor,
        changed_at=timezone.now(),
        reason=reason,
        version_before=version_before,
        version_after=version_after,
        before=before,
        after=after,
        changes=[[change.what, change.old, change.new] for change in changes],
        effect=effect[:300],
    )


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for the change"})
    return reason


def stale_edit(version: int) -> StaleEdit:
    """Someone saved a change to this setting after the preview: nothing is saved, and the
    administrator starts again from what is saved now."""
    return StaleEdit(changes=[], current_version=version, what="setting")


def _differ(before: ClockSettings, after: ClockSettings) -> dict[str, Any]:
    """Only the settings that change, before and after, for the history."""
    old, new = before.as_json(), after.as_json()
    return {key: (old[key], new[key]) for key in old if key != "version" and old[key] != new[key]}


@transaction.atomic
def apply_clock_change(
    *, proposed: ClockSettings, actor: User, reason: str, area: str
) -> HubSettingsChange:
    """Save `proposed` if the clock is still at the version it was previewed from; otherwise
    refuse (StaleEdit) and save nothing. Returns the history row."""
    reason = check_reason(reason)
    hub = HubClock.objects.select_for_update().get(pk=HUB_CLOCK_ID)
    current = clock_settings()
    if hub.version != proposed.version:
        raise stale_edit(hub.version)
    changes = clock_changes(current, proposed)
    if not changes:
        raise ValidationError("Nothing has changed: there is nothing to save.")
    check_clock(proposed)
    effect = moved_by(clock_for(proposed), open_enquiry_timings()).summary
    _save_clock(hub, current, proposed)
    hub.refresh_from_db(fields=["version"])
    differences = _differ(current, proposed)
    recompute_open_deadlines.delay_on_commit()
    return record_change(
        area=area,
        actor=actor,
        reason=reason,
        version_before=current.version,
        version_after=hub.version,
        before={key: old for key, (old, _) in differences.items()},
        after={key: new for key, (_, new) in differences.items()},
        changes=changes,
        effect=effect,
    )


def _save_clock(hub: HubClock, before: ClockSettings, after: ClockSettings) -> None:
    """Save each changed row as the admin did (each save bumps the version, and the change
    log records it with the actor)."""
    if (hub.time_zone, hub.bank_holidays, hub.at_risk_percent) != (
        after.time_zone,
        after.bank_holidays,
        after.at_risk_percent,
    ):
        hub.time_zone = after.time_zone
        hub.bank_holidays = after.bank_holidays
        hub.at_risk_percent = after.at_risk_percent
        hub.save()
    if before.week != after.week:
        for hours in OpeningHours.objects.filter(hub_clock=hub):
            hours.delete()
        for weekday, day in enumerate(after.week):
            for opens, closes in day:
                OpeningHours(
                    hub_clock=hub, weekday=weekday, opens=_time(opens), closes=_time(closes)
                ).save()
    old_closures, new_closures = dict(before.closures), dict(after.closures)
    for closure in ClosureDay.objects.filter(hub_clock=hub):
        if closure.date not in new_closures:
            closure.delete()
        elif closure.reason != new_closures[closure.date]:
            closure.reason = new_closures[closure.date]
            closure.save()
    for added in new_closures.keys() - old_closures.keys():
        ClosureDay(hub_clock=hub, date=added, reason=new_closures[added]).save()
    for allowance in RagAllowance.objects.filter(hub_clock=hub):
        minutes, clock = after.allowances[allowance.rating]
        if (allowance.minutes, allowance.clock) != (minutes, clock):
            allowance.minutes, allowance.clock = minutes, clock
            allowance.save()


def _time(minute: int) -> time:
    minute %= worktime.MINUTES_PER_DAY  # 24:00 is stored as 00:00, "midnight at the end"
    return time(minute // 60, minute % 60)


# The escalation policy.


@dataclass(frozen=True)
class EscalationSettings:
    version: int
    repeat_minutes: int
    managers: tuple[int, ...]  # user ids, the first told first

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "repeat_minutes": self.repeat_minutes,
            "managers": list(self.managers),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EscalationSettings":
        return cls(data["version"], data["repeat_minutes"], tuple(data["managers"]))


def escalation_managers():
    """The managers an escalation may be repeated to: active, by name."""
    return (
        User.objects.filter(is_active=True, groups__name=Role.MANAGER)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def escalation_settings() -> EscalationSettings:
    policy = EscalationPolicy.current()
    return EscalationSettings(
        version=policy.version,
        repeat_minutes=policy.repeat_minutes,
        managers=tuple(
            policy.contacts.order_by("position", "id").values_list("manager_id", flat=True)
        ),
    )


def managers_in_words(ids: tuple[int, ...]) -> str:
    if not ids:
        return "Every active manager, by name"
    people = User.objects.in_bulk(ids)
    return ", ".join(
        f"{position}. {people[pk].get_full_name() or people[pk].username}"
        for position, pk in enumerate(ids, start=1)
        if pk in people
    )


def escalation_changes(before: EscalationSettings, after: EscalationSettings) -> list[Change]:
    changes = []
    if before.repeat_minutes != after.repeat_minutes:
        changes.append(
            Change(
                "Sent again after",
                f"{before.repeat_minutes} minutes",
                f"{after.repeat_minutes} minutes",
            )
        )
    if before.managers != after.managers:
        changes.append(
            Change(
                "Managers told in turn",
                managers_in_words(before.managers),
                managers_in_words(after.managers),
            )
        )
    return changes


def escalation_effect(after: EscalationSettings) -> str:
    waiting = (
        Enquiry.objects.filter(
            state__in=Enquiry.OPEN_STATES,
            escalated_at__isnull=False,
            escalation_acknowledged_at__isnull=True,
        )
        .order_by()
        .count()
    )
    return (
        f"Escalations no manager has acknowledged ({waiting} now) are sent again every "
        f"{after.repeat_minutes} minutes, at any hour. No deadline moves."
    )


@transaction.atomic
def apply_escalation_change(
    *, proposed: EscalationSettings, actor: User, reason: str
) -> HubSettingsChange:
    reason = check_reason(reason)
    policy = EscalationPolicy.current()
    policy = EscalationPolicy.objects.select_for_update().get(pk=policy.pk)
    current = escalation_settings()
    if policy.version != proposed.version:
        raise stale_edit(policy.version)
    changes = escalation_changes(current, proposed)
    if not changes:
        raise ValidationError("Nothing has changed: there is nothing to save.")
    managers = set(
        escalation_managers().filter(pk__in=proposed.managers).values_list("pk", flat=True)
    )
    if set(proposed.managers) - managers:
        raise ValidationError({"managers": "Only active managers can be told of escalations"})
    effect = escalation_effect(proposed)
    policy.repeat_minutes = proposed.repeat_minutes
    policy.save(update_fields=["repeat_minutes", "version"])
    for contact in policy.contacts.all():
        contact.delete()
    for position, manager_id in enumerate(proposed.managers, start=1):
        EscalationContact.objects.create(policy=policy, manager_id=manager_id, position=position)
    return record_change(
        area=Area.ESCALATION,
        actor=actor,
        reason=reason,
        version_before=current.version,
        version_after=policy.version,
        before=current.as_json(),
        after={**proposed.as_json(), "version": policy.version},
        changes=changes,
        effect=effect,
    )
