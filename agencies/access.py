"""Who may do what: roles, agency and the account itself, changed under separation of duties.

Giving access (a role, another agency, a deactivated account back) is a request, an
`AccessChange`, that grants nothing until a second administrator approves it; nobody asks for
their own access, the one who asked never approves, and nobody decides about themselves.
Taking access away (a role removed, an account deactivated) applies at once: it only takes.

Resetting someone's password or two-factor sign-in is a request too, since either would let an
administrator sign in as them. Nobody sets another's password: an approved password reset makes
the account's password unusable and issues a one-time set-up code to the approving
administrator (not the one who asked), who hands it over (agencies.set_up_codes); an approved
two-factor reset removes their app and backup codes, and they set up an app at their next
sign-in. The very first administrators are the one exception (`first_administrators`).

Every step goes to the access log, which lives in `audit`, the layer above: it registers its
writer here when it starts (`audit.apps`), as the firewall registers its gate with
`enquiries.visibility`. A step is recorded in the transaction that makes it, so a step the log
could not record does not happen.
"""

import getpass
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.text import clean_text

from . import set_up_codes, two_factor
from .models import AccessChange, Agency, Role, User

Kind = AccessChange.Kind
Status = AccessChange.Status

OWN_ACCESS = (
    "You cannot change your own roles, agency, account status or sign-in here: ask another "
    "administrator."
)

Step = Literal["requested", "approved", "declined", "removed"]


@dataclass(frozen=True)
class AccessEvent:
    """One step in a change to someone's access, as the access log records it."""

    actor: User
    account: User
    step: Step
    description: str


Recorder = Callable[[AccessEvent], None]

_recorder: Recorder | None = None


def record_with(recorder: Recorder) -> None:
    global _recorder
    _recorder = recorder


def _record(*, actor: User, account: User, step: Step, description: str) -> None:
    if _recorder is None:
        raise ImproperlyConfigured("Nothing records changes to access: is `sharing` installed?")
    _recorder(AccessEvent(actor=actor, account=account, step=step, description=description))


def _who(user: User) -> str:
    return f"{user} ({user.username}, {user.agency})"


def _administrator(actor: User) -> None:
    if not (actor.is_active and (actor.is_superuser or actor.has_role(Role.ADMINISTRATOR))):
        raise PermissionDenied("Only administrators change people's access.")


def _not_own(actor: User, account: User) -> None:
    if actor.pk == account.pk:
        raise PermissionDenied(OWN_ACCESS)


def _requested(change: AccessChange) -> str:
    return (
        f"{_who(change.account)}: {change.describe()}. "
        f"Requested by {change.requested_by}: {change.reason}"
    )


# Giving access: asked for by one administrator, approved or declined by another.


@transaction.atomic
def access_change_request(
    *,
    account: User,
    actor: User,
    kind: str,
    reason: str,
    role: str = "",
    agency: Agency | None = None,
) -> AccessChange:
    _administrator(actor)
    _not_own(actor, account)
    reason = clean_text("reason", reason)
    if not reason:
        raise ValidationError({"reason": "Say why they need this access."})
    if kind == Kind.ADD_ROLE and role in account.roles:
        raise ValidationError(f"{account} already holds the role {Role(role).label}.")
    if kind == Kind.MOVE_AGENCY and agency is not None and agency.pk == account.agency_id:
        raise ValidationError(f"{account} is already in {agency}.")
    if kind == Kind.REACTIVATE and account.is_active:
        raise ValidationError(f"{account}'s account is already active.")
    if kind == Kind.RESET_TWO_FACTOR and not two_factor.has_any_device(account):
        raise ValidationError(
            f"{account} has no two-factor sign-in to reset: they set up an app at their next "
            "sign-in."
        )
    change = AccessChange(
        account=account,
        kind=kind,
        role=role,
        agency=agency,
        reason=reason,
        requested_by=actor,
        requested_at=timezone.now(),
    )
    # The constraints say what a request is, and refuse a second one while the first waits.
    change.full_clean()
    change.save()
    _record(actor=actor, account=account, step="requested", description=_requested(change))
    return change


def _pending_for(change_id: int, actor: User) -> AccessChange:
    """The request, locked, with the decider checked: two administrators deciding at once
    (or one clicking twice) queue on the lock, and the second finds it decided."""
    _administrator(actor)
    change = (
        AccessChange.objects.select_for_update(of=("self",))
        .select_related("account__agency", "requested_by", "agency")
        .get(pk=change_id)
    )
    if actor.pk == change.requested_by_id:
        raise PermissionDenied("You asked for this change: another administrator decides it.")
    if actor.pk == change.account_id:
        raise PermissionDenied(
            "This change is to your own access: another administrator decides it."
        )
    if not change.is_pending:
        raise ValidationError(
            f"This request was already {change.get_status_display().lower()} by "
            f"{change.decided_by}."
        )
    return change


def _decided(change: AccessChange, *, actor: User, status: str, note: str) -> None:
    change.status = status
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.decision_note = note
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


RESETS: dict[str, Kind] = {
    Kind.RESET_PASSWORD: Kind.RESET_TWO_FACTOR,
    Kind.RESET_TWO_FACTOR: Kind.RESET_PASSWORD,
}
RESET_NAMES = {Kind.RESET_PASSWORD: "password reset", Kind.RESET_TWO_FACTOR: "two-factor reset"}


def _refuse_both_factors(change: AccessChange, actor: User) -> None:
    """One administrator never approves both resets of one person while a set-up code could
    still be live: holding the code and an empty two-factor, they could sign in as them."""
    other = RESETS.get(change.kind)
    if other is None:
        return
    since = timezone.now() - set_up_codes.VALID_FOR
    if AccessChange.objects.filter(
        account_id=change.account_id,
        kind=other,
        status=Status.APPROVED,
        decided_by=actor,
        decided_at__gte=since,
    ).exists():
        raise PermissionDenied(
            f"You approved this person's {RESET_NAMES[other]} in the last "
            "24 hours: another administrator approves this one, so nobody holds both of their "
            "ways to sign in."
        )


@transaction.atomic
def access_change_approve(*, change_id: int, actor: User, note: str = "") -> AccessChange:
    """Apply the request. For a password reset the returned change carries the set-up code
    as `one_time_code`, to be shown once to `actor` and nowhere else (it is stored only as a
    digest); for every other kind `one_time_code` is None."""
    change = _pending_for(change_id, actor)
    note = clean_text("note", note)
    account = User.objects.select_for_update(of=("self",)).get(pk=change.account_id)
    _refuse_both_factors(change, actor)
    code, handed_over = None, ""
    if change.kind == Kind.ADD_ROLE:
        account.groups.add(Group.objects.get(name=change.role))
    elif change.kind == Kind.MOVE_AGENCY:
        # Their old agency's information goes with the move: the firewall reads the agency.
        # A move always names the agency (the constraint access_change_says_what).
        account.agency = cast(Agency, change.agency)
        account.save(update_fields=["agency"])
    elif change.kind == Kind.RESET_PASSWORD:
        # Their sessions end with the old password (agencies.sessions).
        account.set_unusable_password()
        account.save(update_fields=["password"])
        issued, code = set_up_codes.issue(account=account, issued_to=actor, access_change=change)
        handed_over = (
            f" A one-time set-up code was shown to {actor}, to hand to them; it works until "
            f"{timezone.localtime(issued.expires_at):%d %b %Y %H:%M}."
        )
    elif change.kind == Kind.RESET_TWO_FACTOR:
        # Their sessions end with the devices (two_factor.device_removed).
        two_factor.reset(account)
    else:
        account.is_active = True
        account.save(update_fields=["is_active"])
    _decided(change, actor=actor, status=Status.APPROVED, note=note)
    _record(
        actor=actor,
        account=account,
        step="approved",
        description=f"{_requested(change)}. Approved by {actor}"
        + (f": {note}" if note else ".")
        + handed_over,
    )
    change.one_time_code = code
    return change


@transaction.atomic
def access_change_decline(*, change_id: int, actor: User, note: str) -> AccessChange:
    change = _pending_for(change_id, actor)
    note = clean_text("note", note)
    if not note:
        raise ValidationError({"note": "Say why the change is declined."})
    _decided(change, actor=actor, status=Status.DECLINED, note=note)
    _record(
        actor=actor,
        account=change.account,
        step="declined",
        description=f"{_requested(change)}. Declined by {actor}: {note}",
    )
    return change


# Taking access away: at once.


def _by(actor: User, reason: str) -> str:
    """Who took the access away and, in their words, why (the access log's reason)."""
    reason = clean_text("reason", reason)
    return f"By {actor}: {reason}" if reason else f"By {actor}."


@transaction.atomic
def roles_remove(*, account: User, actor: User, roles: Iterable[str], reason: str) -> list[str]:
    """Take `roles` from `account`, saying why; returns the roles it held and no longer
    does."""
    _administrator(actor)
    _not_own(actor, account)
    held = list(Group.objects.filter(name__in=list(roles), user=account).order_by("name"))
    if held:
        account.groups.remove(*held)
        account.__dict__.pop("_role_group_cache", None)
    for group in held:
        _record(
            actor=actor,
            account=account,
            step="removed",
            description=(
                f"{_who(account)}: remove role {Role(group.name).label}. {_by(actor, reason)}"
            ),
        )
    return [group.name for group in held]


@transaction.atomic
def account_deactivate(*, account: User, actor: User, reason: str) -> None:
    """Sign-in and every role stop at once; the roles stay on the account for its history,
    and come back only through an approved reactivation. `reason` is why, for the log."""
    _administrator(actor)
    _not_own(actor, account)
    if not account.is_active:
        return
    account.is_active = False
    account.save(update_fields=["is_active"])
    _record(
        actor=actor,
        account=account,
        step="removed",
        description=f"{_who(account)}: deactivate the account. {_by(actor, reason)}",
    )


# The first administrators.


def administrators_exist() -> bool:
    """Whether anyone active can administer: a holder of the role, or a superuser."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=Role.ADMINISTRATOR))
        .exists()
    )


@dataclass(frozen=True)
class FirstAdministrator:
    account: User
    created: bool
    set_up_code: str | None  # to show once to whoever ran the command; None if they have a password


@transaction.atomic
def first_administrators(
    usernames: Sequence[str], *, agency_name: str = "", run_by: str = ""
) -> list[FirstAdministrator]:
    """Make the hub's first administrators, at least two, while nobody can administer it: the
    one way to start the two-administrator rule without a second administrator to approve.
    Accounts that do not exist yet are made in the agency named (made too, of kind "Other", if
    it does not exist) with no password, and given a set-up code each. Logged to the access log
    as given by this command, with the operating-system user who ran it."""
    names = list(dict.fromkeys(name.strip() for name in usernames if name.strip()))
    if len(names) < 2:
        raise ValidationError(
            "Name at least two people: every change to access needs a second administrator "
            "to approve it."
        )
    administrator = Group.objects.select_for_update().get(name=Role.ADMINISTRATOR)
    if administrators_exist():
        raise PermissionDenied(
            "The hub already has an administrator: new administrators are asked for in the "
            "administration site and approved by a second administrator."
        )
    existing = {user.username: user for user in User.objects.filter(username__in=names)}
    missing = [name for name in names if name not in existing]
    agency = None
    if missing:
        agency_name = clean_text("agency", agency_name)
        if not agency_name:
            raise ValidationError(
                f"{', '.join(missing)}: no such account. Give --agency to make them in it."
            )
        agency = Agency.objects.filter(name__iexact=agency_name).first()
        if agency is None:
            agency = Agency.objects.create(name=agency_name, kind=Agency.Kind.OTHER)
    for name in names:
        if name in existing and not existing[name].is_active:
            raise ValidationError(f"{name}'s account is deactivated.")
    run_by = run_by or _operating_system_user()
    made = []
    for name in names:
        account = existing.get(name)
        created = account is None
        if account is None:
            account = User(username=name, agency=agency)
            account.set_unusable_password()
            account.full_clean()
            account.save()
        account.groups.add(administrator)
        account.__dict__.pop("_role_group_cache", None)
        code = None
        if not account.has_usable_password():
            _, code = set_up_codes.issue(account=account, issued_to=None)
        others = ", ".join(other for other in names if other != name)
        _record(
            actor=account,
            account=account,
            step="approved",
            description=(
                f"{_who(account)}: add role {Role.ADMINISTRATOR.label}, as one of the hub's "
                f"first administrators (with {others}). Given by `manage.py "
                f"grant_first_administrators`, run by {run_by}, while no administrator existed"
                + ("; a set-up code was shown to whoever ran it." if code else ".")
            ),
        )
        made.append(FirstAdministrator(account=account, created=created, set_up_code=code))
    return made


def _operating_system_user() -> str:
    try:
        return f"operating-system user {getpass.getuser()}"
    except (KeyError, OSError):
        return "an unknown operating-system user"


# Reads for the administration pages.


def pending_changes(account_id: int | str) -> QuerySet[AccessChange]:
    """A person's requests waiting for approval, oldest first."""
    return (
        AccessChange.objects.filter(account__pk=account_id, status=Status.PENDING)
        .select_related("requested_by", "agency")
        .order_by("requested_at", "id")
    )
