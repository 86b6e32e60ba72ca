"""Two-factor sign-in: after the password, a code from an authenticator app (TOTP).

django-otp's devices hold the secrets and check the codes: a TOTP device for the app, a static
device for the ten backup codes. A person without a confirmed app sets one up at their first
sign-in (the set-up page), gets their backup codes once, and from then on enters a code at every
sign-in (the verify page).

A session has passed the second factor when it holds the device that accepted a code
(`django_otp.login`). Pages read that from the session alone, with no query per request, so a
device removed (a lost phone) must not leave a session verified by it: removing a device ends
its owner's sessions (`device_removed`).

`TWO_FACTOR_REQUIRED=false` (the demo only) makes every session count as passed; every page
then says so (base.html).
"""

import math
import re
from base64 import b32encode
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device, VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.request_context import current_request

from . import sessions
from .account_events import announce
from .models import AccountEventKind, User
from .requests import SignedInRequest

Kind = AccountEventKind

BACKUP_CODE_COUNT = 10
APP_NAME = "Authenticator app"
BACKUP_NAME = "Backup codes"
TOTP_CODE = re.compile(r"^\d{6}$")
WRONG_CODE = "The code is not right, or it has expired. Enter the code your app shows now."
TOO_MANY = "Too many wrong codes. Wait {wait}, then enter the code your app shows now."


def passed(request: HttpRequest) -> bool:
    """Whether this signed-in session may open pages that need a role."""
    session = getattr(request, "session", {})
    return not settings.TWO_FACTOR_REQUIRED or bool(session.get(DEVICE_ID_SESSION_KEY))


def has_app(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def has_any_device(user: User) -> bool:
    """An app, set up or being set up, or backup codes: something a reset would remove."""
    return (
        TOTPDevice.objects.filter(user=user).exists()
        or StaticDevice.objects.filter(user=user).exists()
    )


def _pass(request: HttpRequest, device: Device) -> None:
    """Mark the session as past both factors, under a new key: the one seen before the code
    was typed is worth nothing to whoever saw it."""
    otp_login(request, device)
    request.session.cycle_key()


# Setting up the app at first sign-in.


def _unconfirmed_apps(user: User):
    return TOTPDevice.objects.filter(user=user, confirmed=False)


def app_being_set_up(user: User) -> TOTPDevice:
    """The unconfirmed device for the set-up page, the same secret on every reload until a
    code confirms it."""
    device = _unconfirmed_apps(user).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed in: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> SafeString:
    """The set-up link as an inline SVG QR code: markup, not a data: image or a script, so
    the page keeps its Content-Security-Policy. Only our own path data, so safe to inline."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#0b0c0c", light="#ffffff", svgclass="mash-qr-code", omitsize=False
    )
    return mark_safe(svg)  # noqa: S308 - segno's own markup, no text from the user in it


@dataclass(frozen=True)
class Outcome:
    """What became of a code: accepted or not, and the message for the form if not."""

    accepted: bool
    message: str = ""


def _held_back(device: Device) -> str:
    """Empty if the device may check a code now; else why not (django-otp's throttling)."""
    allowed, why = device.verify_is_allowed()
    if allowed or not why or why.get("reason") != VerifyNotAllowed.N_FAILED_ATTEMPTS:
        return ""
    wait = max(1, math.ceil((why["locked_until"] - timezone.now()).total_seconds()))
    return TOO_MANY.format(wait=f"{wait} second{'' if wait == 1 else 's'}")


def _check(device: Device | None, token: str) -> Outcome:
    if device is None:
        return Outcome(False, WRONG_CODE)
    held_back = _held_back(device)
    if held_back:
        return Outcome(False, held_back)
    return Outcome(True) if device.verify_token(token) else Outcome(False, WRONG_CODE)


def confirm_app(request: SignedInRequest, code: str) -> tuple[Outcome, list[str]]:
    """The first code from a newly scanned app: it confirms the app, passes the session and
    issues the backup codes, which the caller shows once."""
    user = request.user
    with transaction.atomic():
        device = _unconfirmed_apps(user).select_for_update().order_by("-id").first()
        outcome = _check(device, _digits(code))
        if not outcome.accepted:
            announce(
                Kind.TWO_FACTOR_FAILED, request=request, user=user, detail="setting up the app"
            )
            return outcome, []
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        _unconfirmed_apps(user).delete()
        announce(Kind.TWO_FACTOR_ADDED, request=request, user=user, detail=APP_NAME)
        codes = issue_backup_codes(user=user, request=request)
        _pass(request, device)
    return Outcome(True), codes


def issue_backup_codes(*, user: User, request: HttpRequest | None = None) -> list[str]:
    """Ten new single-use codes for when the phone is not to hand; any earlier ones stop
    working. The caller shows them once: nothing shows them again."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    announce(
        Kind.BACKUP_CODES_ISSUED,
        request=request,
        user=user,
        detail=f"{BACKUP_CODE_COUNT} codes; any earlier ones no longer work",
    )
    return codes


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# The code at each sign-in.


def _digits(code: str) -> str:
    return re.sub(r"\s", "", code or "")


def _backup(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def verify(request: SignedInRequest, code: str) -> Outcome:
    """Check a code from the app (six digits) or a backup code (eight letters and digits,
    used up by this); a right one passes the session. Each device slows down guessing on its
    own (django-otp's throttling: 1, 2, 4, 8... seconds after each wrong code)."""
    user = request.user
    digits = _digits(code)
    if TOTP_CODE.match(digits):
        model, token, kind, what = TOTPDevice, digits, Kind.TWO_FACTOR_PASSED, "authenticator code"
    else:
        model, token, kind, what = StaticDevice, _backup(code), Kind.BACKUP_CODE_USED, "backup code"
    with transaction.atomic():
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        outcome = _check(device, token)
        if not outcome.accepted:
            announce(Kind.TWO_FACTOR_FAILED, request=request, user=user, detail=what)
            return outcome
        if kind == Kind.BACKUP_CODE_USED:
            what = f"{device.token_set.count()} left"
        announce(kind, request=request, user=user, detail=what)
        _pass(request, device)
    return Outcome(True)


# Removing a device.


def reset(user: User) -> None:
    """Remove a person's app and backup codes (a lost phone): they set up again at their next
    sign-in. Their sessions end with the devices (`device_removed`, sent for each). Only an
    approved request does this (agencies.access): one administrator alone never does."""
    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).delete()


def device_removed(sender, instance: Device, **kwargs) -> None:
    """post_delete of every device: logged, and a confirmed one takes its owner's sessions
    with it, since a session verified by it would otherwise stay verified."""
    if not instance.confirmed:
        return
    request = current_request()
    by = getattr(request, "user", None)
    detail = instance.name
    if by is not None and by.is_authenticated and by.pk != instance.user_id:
        detail = f"{instance.name}, removed by {by.get_username()}"
    announce(Kind.TWO_FACTOR_REMOVED, request=request, user=instance.user, detail=detail)
    sessions.end_sessions(instance.user)
