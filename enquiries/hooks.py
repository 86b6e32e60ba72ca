"""What the layers above add to enquiries, registered when they start (their `apps.ready`).

This app knows nothing of information sharing; sharing knows enquiries. So:

- `timing_changed` is sent whenever enquiries' deadlines move (a rating, an escalation, a new
  hub clock), for whatever falls due with them (information requests);
- `dependent_timings` are the other stored times kept to the clock (information requests' due
  times), which the per-minute catch-up recomputes after the enquiries' own (enquiries.timing);
- `feedback_checks` refuse feedback to a referrer that would carry out what may not leave the
  hub (a quoted record);
- `panels` add sections to the enquiry page (the agencies' information), each saying which
  records it shows, for the access log;
- `chronology_sources` add entries to a person's chronology (information asked, answered,
  released or refused), as the firewall shows them to the viewer;
- `removal_checks` refuse to take a person off an enquiry while others hold work about them
  there (an information request naming them, an agency's record about them);
- `picture_renderers` compile the picture of an enquiry as a PDF for a reader, with each
  agency's information as the firewall shows it to them, to send with an onward referral;
- `decision_followers` run inside a decision's transaction, for what the decision ends
  (information requests still open are withdrawn), and `decision_notes` say on the decide
  page what they will do.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

from agencies.models import User

from .clock import ClockInForce
from .models import Enquiry, Person

# enquiries: the Enquiry objects whose stored deadlines have just been (re)computed, inside
# the transaction that saves them.
timing_changed = Signal()


@dataclass(frozen=True)
class DependentTiming:
    """Stored times that a layer above keeps to the hub's clock (and to its own policy), with
    a version saying which they were computed under, like an enquiry's `timing_version`.

    `behind` counts those computed under an older version; `catch_up(batch_size)` recomputes
    at most that many of them in one transaction of its own, skipping rows another holds, and
    returns how many it did (0: none left that it could take). `moved_by(clock)` says how many
    of the open ones a proposed clock would move, and of how many, for the clock's preview."""

    label: str
    behind: Callable[[], int]
    catch_up: Callable[[int], int]
    moved_by: Callable[[ClockInForce], tuple[int, int]] | None = None


dependent_timings: list[DependentTiming] = []


def keep_timing_with(dependent: DependentTiming) -> None:
    if all(each.label != dependent.label for each in dependent_timings):
        dependent_timings.append(dependent)


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


@dataclass(frozen=True)
class ChronologyEntry:
    """One thing that happened on one enquiry, for a person's chronology: `kind` is one of
    `CHRONOLOGY_KINDS`; `text` is what the viewer may read of it (for an agency's record,
    its content or its signpost, as the firewall shows it); `shown` is the record whose
    content it shows, for the access log."""

    at: datetime
    kind: str
    enquiry_id: int
    title: str
    text: str = ""
    by: str = ""
    shown: Any = None
    order: int = 0


# The kinds of entry a chronology may hold, in the words of its filter.
CHRONOLOGY_KINDS = {
    "received": "Received",
    "rated": "Rated",
    "escalated": "Escalated",
    "asked": "Information asked",
    "answered": "Information answered",
    "information": "Agency information",
    "released": "Released",
    "refused": "Release refused",
    "decided": "Decided",
    "feedback": "Feedback",
    "amended": "Amended",
}

# (viewer, the ids of the enquiries the viewer may see, the person) -> entries.
ChronologySource = Callable[[User, Sequence[int], Person], list[ChronologyEntry]]
chronology_sources: list[ChronologySource] = []

# (enquiry, person) -> why the person may not be taken off the enquiry, or None.
RemovalCheck = Callable[[Enquiry, Person], str | None]
removal_checks: list[RemovalCheck] = []


def add_chronology_source(source: ChronologySource) -> None:
    if source not in chronology_sources:
        chronology_sources.append(source)


def refuse_removal_with(check: RemovalCheck) -> None:
    if check not in removal_checks:
        removal_checks.append(check)


def removal_refusal(enquiry: Enquiry, person: Person) -> str | None:
    return next((reason for check in removal_checks if (reason := check(enquiry, person))), None)


# (reader, enquiry) -> the picture as a PDF, compiled now for that reader.
PictureRenderer = Callable[[User, Enquiry], bytes]
picture_renderers: list[PictureRenderer] = []


def render_picture_with(renderer: PictureRenderer) -> None:
    if renderer not in picture_renderers:
        picture_renderers.append(renderer)


def picture_pdf(reader: User, enquiry: Enquiry) -> bytes:
    """The picture as the reader may see it: only sharing can compile it, and a referral sent
    without it would hand on less than the hub knows, so its absence is an error."""
    if not picture_renderers:
        raise ImproperlyConfigured("Nothing compiles the picture: is `sharing` installed?")
    return picture_renderers[-1](reader, enquiry)


# (enquiry, actor, now), run inside the decision's transaction once the enquiry is decided.
DecisionFollower = Callable[[Enquiry, User, datetime], object]
decision_followers: list[DecisionFollower] = []

# (user, enquiry) -> lines for the decide page: what deciding will also do.
DecisionNotes = Callable[[User, Enquiry], list[str]]
decision_note_sources: list[DecisionNotes] = []


def follow_decisions_with(follower: DecisionFollower) -> None:
    if follower not in decision_followers:
        decision_followers.append(follower)


def add_decision_notes(source: DecisionNotes) -> None:
    if source not in decision_note_sources:
        decision_note_sources.append(source)


def decision_notes(user: User, enquiry: Enquiry) -> list[str]:
    return [line for source in decision_note_sources for line in source(user, enquiry)]
