"""Step-up: the password asked for again before a sensitive record is released.

Ask only someone who may release the record (sharing.services.release_record checks that
first): a wrong password from anyone else is refused for what it is, not counted.

The password goes through Django's `authenticate` with the request being answered, so the
lockout (agencies.lockout) counts a wrong one as it counts a failed sign-in, for this username
at this address: whoever has found a signed-in session or a token cannot guess its owner's
password at the release form more often than at the sign-in page. Once locked out there,
release is refused whatever the password and the session ends (agencies.lockout.locked_out_page),
so the person sees the lockout message on the sign-in page. The account log calls a wrong
step-up password what it is, not a failed sign-in.

The check runs before the release's own transaction: a refused release rolls back, and the
count of wrong passwords must not roll back with it.
"""

from django.contrib.auth import authenticate, update_session_auth_hash

from core.request_context import current_request

from . import lockout
from .models import User

MISSING = "Enter your password to confirm it is you releasing this."
WRONG = "Your password is not right. Enter the password you sign in with."


def password_problem(user: User, password: str) -> str | None:
    """What is wrong with `password` as `user`'s, or None if it is theirs.

    Outside a request (a management command, a service called from a test) there is nobody
    at a keyboard to lock out, so the password is only checked."""
    if not password:
        return MISSING
    request = current_request()
    if request is None:
        return None if user.check_password(password) else WRONG
    # `step_up` reaches the failed sign-in signal's credentials, for the account log.
    confirmed = authenticate(request, username=user.get_username(), password=password, step_up=True)
    refusal = lockout.refusal_of(request)
    if refusal is not None:
        return refusal.message
    if confirmed is None or confirmed.pk != user.pk:
        return WRONG
    lockout.record_success(request, user.get_username(), signed_in=False)
    if confirmed.password != user.password and request.session.session_key:
        # The hash was made again with today's settings (agencies.hashers), which would end
        # this session too; it goes on as a password change by its owner would.
        update_session_auth_hash(request, confirmed)
    return None
