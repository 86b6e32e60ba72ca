"""Changes to people's access (agencies.access) in the access log: each request, approval,
decline and removal, by whom, about whose account, and what changed. Registered with agencies
when this app starts (audit.apps): agencies is the layer below and cannot write the log."""

from agencies.access import AccessEvent

from .access_log import log_access
from .models import AccessLogEntry

Log = AccessLogEntry.Action

STEPS = {
    "requested": Log.ACCESS_REQUESTED,
    "approved": Log.ACCESS_GRANTED,
    "declined": Log.ACCESS_DECLINED,
    "removed": Log.ACCESS_REMOVED,
}


def log_access_change(event: AccessEvent) -> None:
    log_access(
        user=event.actor,
        action=STEPS[event.step],
        channel=AccessLogEntry.Channel.ADMIN,
        account=event.account,
        reason=event.description,
    )
