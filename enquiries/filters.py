"""The enquiry lists' filters, declared once: the triage queue's page and the API's list read
the same query parameters, with the same labels, choices and messages, and narrow the
enquiries their selector hands them as the selectors narrow the queue (`selectors.narrowed`).
"""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from core.filters import (
    NOT_A_CHOICE,
    NOT_A_NUMBER,
    FilterSet,
    FreeTextFilter,
    PickedIdFilter,
    SelectFilter,
    YesNoFilter,
)

from .models import Enquiry, Rag
from .selectors import (
    ACKNOWLEDGED_NO,
    ACKNOWLEDGED_YES,
    QueueFilters,
    narrowed,
    triage_staff_choices,
)

OPEN_STATE_CHOICES = [(s.value, s.label) for s in Enquiry.State if s in Enquiry.OPEN_STATES]


class EnquiryFilter(FilterSet):
    """Enquiries by RAG, state, who has them, their clock, and a reference or a name. `mine`
    needs the request's user; at risk and breached are judged at `now`."""

    rating = SelectFilter(
        label="RAG", choices=Rag.choices, empty_label="Any", error_messages=NOT_A_CHOICE
    )
    state = SelectFilter(
        label="State",
        choices=Enquiry.State.choices,
        empty_label="Any",
        error_messages=NOT_A_CHOICE,
    )
    assignee = PickedIdFilter(
        label="Assigned to",
        choices=triage_staff_choices,
        empty_label="Anyone",
        min_value=1,
        help_text="A researcher's or manager's user id.",
        error_messages=NOT_A_NUMBER,
    )
    mine = YesNoFilter(label="Only mine", help_text="Only those assigned to me.")
    at_risk = YesNoFilter(
        label="At risk", help_text="Open, past the at-risk share of the allowance, not breached."
    )
    breached = YesNoFilter(
        label="Breached", help_text="Open and past the deadline, or decided late."
    )
    escalated = YesNoFilter(label="Escalated", help_text="Escalated for immediate protection.")
    acknowledged = SelectFilter(
        label="Escalation",
        choices=[
            (ACKNOWLEDGED_YES, "Acknowledged by a manager"),
            (ACKNOWLEDGED_NO, "Not yet acknowledged"),
        ],
        empty_label="Any",
        help_text="Escalations a manager has acknowledged (yes) or nobody has yet (no).",
        error_messages=NOT_A_CHOICE,
    )
    unassigned = YesNoFilter(label="Unassigned", help_text="Nobody has it yet.")
    q = FreeTextFilter(
        label="Reference or name", max_length=100, help_text="A reference or a name."
    )

    def __init__(self, *args, now: datetime | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()

    def queue_filters(self) -> QueueFilters:
        """What was asked for, as the selectors take it; nothing while any needs correcting."""
        asked = self.cleaned
        return QueueFilters(
            rating=asked.get("rating") or "",
            state=asked.get("state") or "",
            assignee_id=asked.get("assignee"),
            mine=bool(asked.get("mine")),
            at_risk=bool(asked.get("at_risk")),
            breached=bool(asked.get("breached")),
            escalated=bool(asked.get("escalated")),
            acknowledged=asked.get("acknowledged") or "",
            unassigned=bool(asked.get("unassigned")),
            search=self.words,
        )

    # Whether the enquiries filtered are open ones only (`selectors.narrowed`).
    open_only = False

    def filter_queryset(self, queryset: QuerySet[Enquiry]) -> QuerySet[Enquiry]:
        return narrowed(
            queryset,
            user=self.request.user,
            filters=self.queue_filters(),
            now=self.now,
            open_only=self.open_only,
        )


class QueueFilter(EnquiryFilter):
    """The triage queue's: it holds open enquiries only, so only their states are offered."""

    open_only = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["state"].extra.update(choices=OPEN_STATE_CHOICES, empty_label="Any open")
