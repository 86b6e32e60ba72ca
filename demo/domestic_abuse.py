"""Domestic-abuse notifications for the demo police force (docs/domain.md 5.7): a night's
notifications loaded through the same import as a force's CSV file, two triaged (one referred
into the hub, one closed), the rest waiting in the `police` login's queue."""

import io
from datetime import datetime, timedelta

from django.utils import timezone

from agencies.models import User
from sharing import domestic_abuse
from sharing.models import DomesticAbuseNotification

Person = tuple[str, str, str, str | timedelta]
ROWS: list[tuple[str, int, str, str, str, list[Person]]] = [
    # reference, hours before now, address, summary, consent, people (part, first, last, born:
    # a date, or an age for a baby)
    (
        "DEMO-DA-0001",
        10,
        "14 Larch Close, Banbury",
        "Neighbour called 999 reporting shouting and a smashed window. Victim had a red mark "
        "on her cheek; two children were upstairs. Partner left before officers arrived.",
        "not_sought",
        [
            ("victim", "Megan", "Hollis", "1991-03-14"),
            ("alleged_perpetrator", "Darren", "Pike", ""),
            ("child", "Tyler", "Hollis", "2015-06-02"),
            ("child", "Ruby", "Hollis", "2019-11-20"),
        ],
    ),
    (
        "DEMO-DA-0002",
        9,
        "3 Mill Lane, Witney",
        "Victim reported her ex-partner sending threatening messages and waiting outside her "
        "work. No children in the household. Victim agreed to referral.",
        "yes",
        [("victim", "Sarah", "Okafor", "1987-08-30"), ("alleged_perpetrator", "Lee", "Grant", "")],
    ),
    (
        "DEMO-DA-0003",
        7,
        "Flat 2, 40 Cowley Road, Oxford",
        "Verbal argument between brothers over money; no injuries, no threats, both calm on "
        "arrival. Nobody else lives there.",
        "not_sought",
        [("victim", "Adam", "Bell", "1979-02-11"), ("alleged_perpetrator", "Chris", "Bell", "")],
    ),
    (
        "DEMO-DA-0004",
        5,
        "22 Orchard Way, Bicester",
        "Victim disclosed coercive control: partner takes her wages and checks her phone. "
        "Baby of 8 months in the home.",
        "no",
        [
            ("victim", "Jess", "Marlow", "1996-12-01"),
            ("alleged_perpetrator", "Kyle", "Marlow", "1994-04-17"),
            ("child", "Ivy", "Marlow", timedelta(days=245)),
        ],
    ),
    (
        "DEMO-DA-0005",
        3,
        "9 Station Road, Didcot",
        "Teenage son pushed his mother during an argument about his phone; she did not want "
        "police action. Younger sister present.",
        "not_sought",
        [
            ("victim", "Claire", "Dunn", "1980-09-09"),
            ("alleged_perpetrator", "Jake", "Dunn", "2009-05-05"),
            ("child", "Poppy", "Dunn", "2014-01-23"),
        ],
    ),
]


def _csv(now: datetime, references: set[str]) -> str:
    lines = [",".join(domestic_abuse.COLUMNS)]
    for reference, hours, address, summary, consent, people in ROWS:
        if reference in references:
            continue
        incident = (now - timedelta(hours=hours)).isoformat(timespec="minutes")
        for index, (part, first, last, born) in enumerate(people):
            head = [incident, f'"{address}"', f'"{summary}"', consent] if not index else [""] * 4
            if isinstance(born, timedelta):  # a baby's age, so never born after the incident
                born = (timezone.localdate(now) - born).isoformat()
            lines.append(",".join([reference, *head, part, first, last, born]))
    return "\n".join(lines)


def seed_demo_domestic_abuse(*, now: datetime | None = None) -> int:
    """Load the demo force's notifications and triage two; returns how many were loaded.
    Safe to run twice: a reference is loaded once, a notification triaged once."""
    now = now or timezone.now()
    officer = User.objects.filter(username="police").select_related("agency").first()
    if officer is None:
        return 0
    had = set(
        DomesticAbuseNotification.objects.filter(agency=officer.agency).values_list(
            "police_reference", flat=True
        )
    )
    loaded = []
    if had != {row[0] for row in ROWS}:
        loaded = domestic_abuse.import_notifications(
            io.StringIO(_csv(now, had)), actor=officer, now=now
        )
    decisions = {
        "DEMO-DA-0001": ("high", "refer", "Children present; injury seen; third call this year."),
        "DEMO-DA-0003": ("standard", "nfa", "Verbal only, no children, both adults safe."),
    }
    waiting = DomesticAbuseNotification.objects.filter(
        agency=officer.agency,
        police_reference__in=decisions,
        status=DomesticAbuseNotification.Status.NEW,
    ).select_related("agency")
    for notification in waiting:
        risk, decision, rationale = decisions[notification.police_reference]
        domestic_abuse.triage(
            notification=notification,
            actor=officer,
            risk_level=risk,
            decision=decision,
            rationale=rationale,
            expected_version=notification.version,
            now=now,
        )
    return len(loaded)
