"""One-time set-up codes: how a person whose password was reset, or who has never had one,
chooses their own.

No administrator ever types or learns anyone's password. When a second administrator approves a
password reset (agencies.access), the account's password stops working and a code is issued to
that approving administrator, shown once, to hand to the person in person or by phone. The
person enters their username, the code and a new password on the set-up page; the code then
stops working, as it does when it expires, when a later code replaces it, or after
`SetUpCode.MAX_FAILED_ATTEMPTS` wrong tries. Only a SHA-256 digest of it is kept: it is random
(80 bits), so there is no dictionary to try.

Two-factor is not part of it: someone who still has their app enters a code from it at sign-in
as always; someone whose two-factor was reset (a separate approved request) sets up an app.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .account_events import announce
from .models import AccountEventKind, SetUpCode, User

Kind = AccountEventKind

VALID_FOR = timedelta(hours=24)
# Crockford's base 32: no I, L, O or U, so nothing is misread when it is read out.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16  # 80 bits

WRONG_CODE = (
    "The username or set-up code is not right, or the code has expired or already been used. "
    "Check them, or ask an administrator for a new code."
)


def _normal(code: str) -> str:
    """As typed, without spaces or dashes, in capitals, with the letters people mistake for
    digits read as the digits."""
    code = "".join(ch for ch in (code or "").upper() if ch not in " -\t")
    return code.translate(str.maketrans("OIL", "011"))


def digest_of(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def _new_code() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def issue(*, account: User, issued_to: User | None, access_change=None) -> tuple[SetUpCode, str]:
    """A new code for `account`, and the code itself, which the caller shows once to
    `issued_to`. Any earlier code of theirs stops working."""
    now = timezone.now()
    SetUpCode.objects.filter(account=account).live().update(voided_at=now)
    code = _new_code()
    made = SetUpCode.objects.create(
        account=account,
        access_change=access_change,
        issued_to=issued_to,
        digest=digest_of(code),
        issued_at=now,
        expires_at=now + VALID_FOR,
    )
    return made, code


def find(*, username: str, code: str, request: HttpRequest | None = None) -> SetUpCode | None:
    """The live code of the active account `username`, locked until the caller's transaction
    ends, if `code` is it. Otherwise None, with the try counted against the account's code and
    written to the account log. Call inside `transaction.atomic()`."""
    account = User.objects.filter(username=username, is_active=True).first()
    live = None
    if account is not None:
        live = (
            SetUpCode.objects.live()
            .select_for_update()
            .filter(account=account)
            .order_by("-issued_at")
            .first()
        )
    if live is not None and hmac.compare_digest(live.digest, digest_of(code)):
        live.account = account
        return live
    if live is not None:
        SetUpCode.objects.filter(pk=live.pk).update(failed_attempts=live.failed_attempts + 1)
    announce(Kind.SET_UP_CODE_REFUSED, request=request, user=account, username=username[:150])
    return None


@transaction.atomic
def use(code: SetUpCode, *, password: str, request: HttpRequest | None = None) -> None:
    """Give the code's account `password` (already validated) and spend the code. Every session
    the account had ends (agencies.sessions: its password changed)."""
    account = code.account
    account.set_password(password)
    account.save(update_fields=["password"])
    code.used_at = timezone.now()
    code.save(update_fields=["used_at"])
    issued_by = code.issued_to.get_username() if code.issued_to else "a management command"
    announce(Kind.SET_UP_CODE_USED, request=request, user=account, detail=f"code from {issued_by}")
