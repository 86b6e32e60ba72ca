"""What the layers above add to enquiries, registered when they start (their `apps.ready`).

This app knows nothing of information sharing; sharing knows enquiries. So:

- `timing_changed` is sent whenever enquiries' deadlines move (a rating, an escalation, a new
  hub clock), for whatever falls due with them (information requests);
- `feedback_checks` refuse feedback to a referrer that would carry out what may not leave the
  hub (a quoted record);
- `panels` add sections to the enquiry page (the agencies' information), each saying which
  records it shows, for the access log.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal

from agencies.models import User

from .models import Enquiry

# enquiries: the Enquiry objects whose stored deadlines have just changed.
timing_changed = Signal()

# (actor, enquiry, text, channel) -> why the text may not be sent, or None. A check that
# refuses logs the attempt itself, outside the write's transaction.
FeedbackCheck = Callable[[User, Enquiry, str, str], str | None]
feedback_checks: list[FeedbackCheck] = []


@dataclass(frozen=True)
class Panel:
    """A section of the enquiry page: its template and context; the records whose content it
    shows (for the access log); and, if it read what justifies the look, the justification,
    saving the page a query."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    shown: Sequence[Any] = ()
    reason: str | None = None


EnquiryPanel = Callable[[User, Enquiry], Panel]
panels: list[EnquiryPanel] = []


def refuse_feedback_with(check: FeedbackCheck) -> None:
    if check not in feedback_checks:
        feedback_checks.append(check)


def add_panel(panel: EnquiryPanel) -> None:
    if panel not in panels:
        panels.append(panel)


def panels_for(user: User, enquiry: Enquiry) -> list[Panel]:
    return [panel(user, enquiry) for panel in panels]
