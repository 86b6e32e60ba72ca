"""Agencies and people as administrators change them on the hub settings pages.

Each change is checked before it is saved: the page shows what would change and what it
affects, and saving re-reads the row under a lock and refuses if it is no longer what was
checked (`ChangedMeanwhile`), so two administrators never silently overwrite each other.
Access itself (roles, agency, the account's status, resets) changes only through
agencies.access, as in the administration site: giving access is a request a second
administrator approves, taking it away applies at once, and each step is in the access log.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet

from core.text import clean_text

from . import access, tokens, two_factor
from .models import AccessChange, Agency, Role, User

CHANGED_MEANWHILE = (
    "Someone else changed this while you were checking your change. Nothing was saved: "
    "check the values as they are now and make your change again."
)


class ChangedMeanwhile(Exception):
    """What was checked is no longer what is saved: another change came first."""


def version_of(*values: object) -> str:
    """A short digest of the values a check page showed, compared again when saving."""
    return hashlib.sha256(repr(values).encode()).hexdigest()[:20]


def require_administrator(actor: User) -> None:
    if not (actor.is_active and (actor.is_superuser or actor.has_role(Role.ADMINISTRATOR))):
        raise PermissionDenied("Only administrators change the hub's settings.")


@dataclass(frozen=True)
class Difference:
    """One value on a check page: as it is, and as it would be."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Preview:
    """What saving would change, what that affects, and why it may not be saved."""

    differences: list[Difference] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def differences(labels: dict[str, str], before: dict, after: dict) -> list[Difference]:
    return [
        Difference(label, str(before.get(name, "")), str(after[name]))
        for name, label in labels.items()
        if name in after and str(before.get(name, "")) != str(after[name])
    ]


def people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


# Agencies.

AGENCY_LABELS = {
    "name": "Name",
    "kind": "Kind",
    "participation": "Taking part",
    "asked_by_default": "Asked about every enquiry",
    "is_active": "Status",
}


def agencies_listed() -> QuerySet[Agency]:
    """Every agency with how many active people it has, active agencies first (one query)."""
    return Agency.objects.annotate(
        people_count=Count("members", filter=Q(members__is_active=True))
    ).order_by("-is_active", "name")


def agency_version(agency: Agency) -> str:
    return version_of(
        agency.updated_at.isoformat() if agency.updated_at else "",
        *(getattr(agency, name) for name in AGENCY_LABELS),
    )


def _agency_shown(values: dict) -> dict[str, str]:
    shown = dict(values)
    if "kind" in values:
        shown["kind"] = Agency.Kind(values["kind"]).label
    if "participation" in values:
        shown["participation"] = Agency.Participation(values["participation"]).label
    if "asked_by_default" in values:
        shown["asked_by_default"] = "Yes" if values["asked_by_default"] else "No"
    if "is_active" in values:
        shown["is_active"] = "Active" if values["is_active"] else "Inactive"
    return shown


def _agency_values(agency: Agency) -> dict:
    return {name: getattr(agency, name) for name in AGENCY_LABELS}


def agency_preview(*, actor: User, agency: Agency | None, values: dict) -> Preview:
    """What saving `values` on `agency` (None for a new one) changes and affects."""
    before = _agency_values(agency) if agency is not None else {}
    effects, problems = [], []
    if agency is None:
        effects.append("The agency can be chosen for people and asked for information.")
    elif agency.is_active and not values.get("is_active", True):
        active = agency.members.filter(is_active=True).count()
        effects.append(
            f"{people(active)} in this agency will no longer be able to sign in: their "
            "accounts are deactivated, and each comes back only when a second administrator "
            "approves it."
        )
        effects.append("It will be asked for no new information; its history stays.")
        if actor.agency_id == agency.pk:
            problems.append(
                "You are in this agency, and nobody deactivates their own account: ask another "
                "administrator."
            )
    elif not agency.is_active and values.get("is_active"):
        effects.append(
            "Its people's accounts stay deactivated: ask for each one back on their page."
        )
    if agency is not None and values.get("asked_by_default") != before.get("asked_by_default"):
        effects.append(
            "It will be in the usual set asked about every new enquiry."
            if values.get("asked_by_default")
            else "It will no longer be in the usual set asked about every new enquiry."
        )
    return Preview(
        differences=differences(AGENCY_LABELS, _agency_shown(before), _agency_shown(values)),
        effects=effects,
        problems=problems,
    )


@transaction.atomic
def agency_save(
    *, actor: User, agency: Agency | None, values: dict, seen: str = ""
) -> tuple[Agency, Preview]:
    """Add an agency (`agency` None) or change one that is still as `seen`. Deactivating it
    deactivates its people's accounts, each in the access log as the administration site
    would log it. Agencies are never deleted: they own records and history. Returns the
    agency and the change as it was checked, for the history of hub settings."""
    require_administrator(actor)
    if agency is None:
        saved = Agency()
    else:
        saved = Agency.objects.select_for_update().get(pk=agency.pk)
        if agency_version(saved) != seen:
            raise ChangedMeanwhile
    preview = agency_preview(actor=actor, agency=None if agency is None else saved, values=values)
    if preview.problems:
        raise ValidationError(preview.problems)
    deactivating = agency is not None and saved.is_active and not values.get("is_active", True)
    for name, value in values.items():
        setattr(saved, name, value)
    saved.full_clean()
    saved.save()
    if deactivating:
        for member in User.objects.filter(agency=saved, is_active=True):
            access.account_deactivate(
                account=member, actor=actor, reason=f"Their agency, {saved}, was deactivated."
            )
    return saved, preview


# People.

PERSON_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "job_title": "Job title",
}


def people_listed(*, agency: Agency | None = None, role: str = "") -> QuerySet[User]:
    """People with their agency and roles (two queries a page), filtered."""
    listed = User.objects.select_related("agency").prefetch_related(
        Prefetch("groups", queryset=Group.objects.filter(name__in=Role.values).only("name"))
    )
    if agency is not None:
        listed = listed.filter(agency=agency)
    if role:
        listed = listed.filter(groups__name=role)
    return listed.order_by("-is_active", "last_name", "first_name", "username")


def person_version(account: User) -> str:
    pending = tuple(access.pending_changes(account.pk).values_list("pk", flat=True))
    return version_of(
        *(getattr(account, name) for name in PERSON_LABELS),
        account.agency_id,
        account.is_active,
        sorted(account.roles),
        pending,
    )


@dataclass(frozen=True)
class AccessPlan:
    """What a change to a person's roles, agency and status does to their access."""

    add_roles: tuple[str, ...] = ()
    remove_roles: tuple[str, ...] = ()
    move_to: Agency | None = None
    reactivate: bool = False
    deactivate: bool = False

    @property
    def asks(self) -> bool:
        return bool(self.add_roles or self.move_to or self.reactivate)

    @property
    def changes(self) -> bool:
        return self.asks or bool(self.remove_roles or self.deactivate)


def access_plan(*, account: User, roles: Iterable[str], agency: Agency, active: bool) -> AccessPlan:
    """The plan for an existing person to hold `roles`, in `agency`, active or not."""
    wanted, held = set(roles), set(account.roles)
    return AccessPlan(
        add_roles=tuple(role for role in Role.values if role in wanted - held),
        remove_roles=tuple(role for role in Role.values if role in held - wanted),
        move_to=agency if agency.pk != account.agency_id else None,
        reactivate=active and not account.is_active,
        deactivate=account.is_active and not active,
    )


def access_plan_problems(*, account: User, actor: User, plan: AccessPlan) -> dict[str, list[str]]:
    """Why the plan cannot be asked for, by field (the admin's rules)."""
    problems: dict[str, list[str]] = {}
    if plan.changes and account.pk == actor.pk:
        problems.setdefault("__all__", []).append(access.OWN_ACCESS)
    waiting = {(change.kind, change.role) for change in access.pending_changes(account.pk)}
    for role in plan.add_roles:
        if (AccessChange.Kind.ADD_ROLE, role) in waiting:
            problems.setdefault("roles", []).append(
                f"{Role(role).label} is already waiting for approval."
            )
    if plan.move_to and (AccessChange.Kind.MOVE_AGENCY, "") in waiting:
        problems.setdefault("agency", []).append("A move for them is already waiting for approval.")
    return problems


def access_plan_apply(
    *, account: User, actor: User, plan: AccessPlan, reason: str, new_account: bool = False
) -> list[AccessChange]:
    """Take away at once what the plan removes, and ask for what it gives (a new account's
    set-up code too); returns the requests made. The administration site does the same."""
    if plan.remove_roles:
        access.roles_remove(account=account, actor=actor, roles=plan.remove_roles, reason=reason)
    if plan.deactivate:
        access.account_deactivate(account=account, actor=actor, reason=reason)
    asked = [
        access.access_change_request(
            account=account, actor=actor, kind=AccessChange.Kind.ADD_ROLE, role=role, reason=reason
        )
        for role in plan.add_roles
    ]
    if plan.move_to:
        asked.append(
            access.access_change_request(
                account=account,
                actor=actor,
                kind=AccessChange.Kind.MOVE_AGENCY,
                agency=plan.move_to,
                reason=reason,
            )
        )
    if plan.reactivate:
        asked.append(
            access.access_change_request(
                account=account, actor=actor, kind=AccessChange.Kind.REACTIVATE, reason=reason
            )
        )
    if new_account:
        asked.append(
            access.access_change_request(
                account=account, actor=actor, kind=AccessChange.Kind.RESET_PASSWORD, reason=reason
            )
        )
    return asked


def _roles_shown(roles: Iterable[str]) -> str:
    return ", ".join(Role(role).label for role in Role.values if role in set(roles)) or "None"


def person_preview(
    *, actor: User, account: User, details: dict, roles: Iterable[str], agency: Agency, active: bool
) -> tuple[Preview, AccessPlan]:
    plan = access_plan(account=account, roles=roles, agency=agency, active=active)
    before = {name: getattr(account, name) for name in PERSON_LABELS}
    shown = differences(PERSON_LABELS, before, details)
    if plan.add_roles or plan.remove_roles:
        shown.append(Difference("Roles", _roles_shown(account.roles), _roles_shown(roles)))
    if plan.move_to:
        shown.append(Difference("Agency", str(account.agency), str(agency)))
    if plan.reactivate or plan.deactivate:
        shown.append(
            Difference(
                "Account",
                "Active" if account.is_active else "Deactivated",
                "Active" if active else "Deactivated",
            )
        )
    effects = []
    if plan.remove_roles:
        effects.append(
            f"They lose {_roles_shown(plan.remove_roles)} at once: this needs no approval."
        )
    if plan.deactivate:
        effects.append(
            "They can no longer sign in, from now: every session of theirs ends and their API "
            "tokens stop working. Their account comes back only when a second administrator "
            "approves it."
        )
    asked = [f"add role {Role(role).label}" for role in plan.add_roles]
    if plan.move_to:
        asked.append(f"move to {agency}: they lose {account.agency}'s information")
    if plan.reactivate:
        asked.append("reactivate the account")
    if asked:
        effects.append(
            f"Asks for: {'; '.join(asked)}. Nothing is given until another administrator "
            "approves it."
        )
    problems = access_plan_problems(account=account, actor=actor, plan=plan)
    return (
        Preview(
            differences=shown,
            effects=effects,
            problems=[problem for found in problems.values() for problem in found],
        ),
        plan,
    )


@transaction.atomic
def person_change(
    *,
    actor: User,
    account: User,
    details: dict,
    roles: Iterable[str],
    agency: Agency,
    active: bool,
    reason: str,
    seen: str,
) -> tuple[list[AccessChange], Preview]:
    """Change a person who is still as `seen`: their details at once (the change log has
    them), their access through agencies.access. Returns the requests made and the change as
    it was checked."""
    require_administrator(actor)
    locked = User.objects.select_for_update(of=("self",)).get(pk=account.pk)
    if person_version(locked) != seen:
        raise ChangedMeanwhile
    roles = list(roles)
    preview, plan = person_preview(
        actor=actor, account=locked, details=details, roles=roles, agency=agency, active=active
    )
    problems = access_plan_problems(account=locked, actor=actor, plan=plan)
    if problems:
        raise ValidationError(problems)
    reason = clean_text("reason", reason)
    if plan.changes and not reason:
        raise ValidationError({"reason": "Say why their access changes."})
    changed = [name for name, value in details.items() if getattr(locked, name) != value]
    if changed:
        for name in changed:
            setattr(locked, name, details[name])
        locked.full_clean(exclude=["password"])
        locked.save(update_fields=changed)
    return access_plan_apply(account=locked, actor=actor, plan=plan, reason=reason), preview


@transaction.atomic
def person_add(
    *, actor: User, details: dict, agency: Agency, roles: Iterable[str], reason: str
) -> tuple[User, list[AccessChange], Preview]:
    """A new account in `agency` with no roles and no password, as the administration site
    makes one: the roles and a set-up code are asked for, and a second administrator's
    approval gives them."""
    require_administrator(actor)
    reason = clean_text("reason", reason)
    if not reason:
        raise ValidationError({"reason": "Say why they need an account."})
    roles = list(roles)
    account = User(agency=agency, **details)
    account.set_unusable_password()
    account.full_clean()
    account.save()
    plan = AccessPlan(add_roles=tuple(role for role in Role.values if role in set(roles)))
    asked = access_plan_apply(
        account=account, actor=actor, plan=plan, reason=reason, new_account=True
    )
    return account, asked, person_add_preview(details=details, agency=agency, roles=roles)


@transaction.atomic
def reset_request(*, actor: User, account: User, kind: str, reason: str) -> AccessChange:
    """Ask for a password or two-factor reset, as the administration site does."""
    require_administrator(actor)
    if kind not in access.RESETS:
        raise ValidationError("No such reset.")
    return access.access_change_request(account=account, actor=actor, kind=kind, reason=reason)


def access_changes_listed() -> QuerySet[AccessChange]:
    """Requests waiting for approval, oldest first, then the last decided."""
    return AccessChange.objects.select_related(
        "account__agency", "agency", "requested_by", "decided_by"
    ).order_by("requested_at", "id")


def may_decide(*, actor: User, change: AccessChange) -> str | None:
    """Why `actor` may not decide `change`, or None if they may (the admin's rule)."""
    if not change.is_pending:
        return f"{change.get_status_display()} by {change.decided_by}."
    if actor.pk == change.requested_by_id:
        return "You asked for this change: another administrator decides it."
    if actor.pk == change.account_id:
        return "This change is to your own access: another administrator decides it."
    return None


def person_add_preview(*, details: dict, agency: Agency, roles: Iterable[str]) -> Preview:
    asked = [f"add role {Role(role).label}" for role in Role.values if role in set(roles)]
    return Preview(
        differences=[
            Difference("Username", "", details["username"]),
            *differences(PERSON_LABELS, {}, details),
            Difference("Agency", "", str(agency)),
            Difference("Roles", "", _roles_shown(roles)),
        ],
        effects=[
            f"A new account in {agency}, with no roles and no password yet.",
            "Asks for: "
            + "; ".join([*asked, "a one-time set-up code, with which they choose a password"])
            + ". Nothing is given until another administrator approves it.",
        ],
    )


def reset_preview(*, actor: User, account: User, kind: str) -> Preview:
    effect = (
        "If a second administrator approves it, their password stops working at once, every "
        "session of theirs ends, and the approving administrator is shown a one-time set-up "
        "code to hand them in person or by phone. Their two-factor sign-in is unchanged."
        if kind == AccessChange.Kind.RESET_PASSWORD
        else "If a second administrator approves it, their authenticator app and backup codes "
        "stop working at once and every session of theirs ends; at their next sign-in, with "
        "their own password, they set up an app again."
    )
    problems = []
    if actor.pk == account.pk:
        problems.append(access.OWN_ACCESS)
    if kind == AccessChange.Kind.RESET_TWO_FACTOR and not two_factor.has_any_device(account):
        problems.append(
            f"{account} has no two-factor sign-in to reset: they set up an app at their next "
            "sign-in."
        )
    if access.pending_changes(account.pk).filter(kind=kind).exists():
        problems.append("This reset is already waiting for approval.")
    return Preview(
        differences=[Difference("Asks for", "", AccessChange.Kind(kind).label)],
        effects=[effect],
        problems=problems,
    )


def tokens_preview(*, account: User) -> Preview:
    in_use = account.api_tokens.in_use().count()
    return Preview(
        differences=[Difference("API tokens in use", str(in_use), "0")],
        effects=[
            f"{in_use} {'token stops' if in_use == 1 else 'tokens stop'} working at once: "
            "their scripts are refused until they make a new one on their account page."
        ],
        problems=[] if in_use else [f"{account} has no API token in use."],
    )


def tokens_revoke(*, actor: User, account: User, request=None) -> int:
    """Revoke every token of `account` in use, each in the account log, as the
    administration site's action does."""
    require_administrator(actor)
    return tokens.revoke_all(account, request=request, why="revoked by an administrator")
