"""The demo hub: the agencies a county MASH has (docs/domain.md section 3), the one that runs
the hub (never asked for information), and one login per role."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, Role, User
from enquiries.models import Notification
from enquiries.notifications import background_fault_message, background_recovered_message
from sharing.models import SharingPolicy

from .samples import sample

Kind = Agency.Kind
Participation = Agency.Participation

_HUB = sample("hub")

DEMO_AGENCIES: list[tuple[str, str, str, bool]] = [
    (
        agency["name"],
        Kind(agency["kind"]),
        Participation(agency["participation"]),
        agency.get("asked_by_default", True),
    )
    for agency in _HUB["agencies"]
]
# The agency that runs the hub: its information is the hub's own, so it is never asked.
LEAD_AGENCY: str = _HUB["lead_agency"]


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    job_title: str
    agency: str
    roles: tuple[str, ...]

    @property
    def password(self) -> str:
        # Deliberately guessable: the demo's logins are printed and listed in the README.
        return f"{self.username}-demo-2026"


DEMO_USERS: list[DemoUser] = [
    DemoUser(
        user["username"],
        user["first_name"],
        user["last_name"],
        user["job_title"],
        user["agency"],
        tuple(Role(role) for role in user["roles"]),
    )
    for user in _HUB["users"]
]


@dataclass
class SeedResult:
    agencies_created: int
    users_created: int
    users: list[DemoUser]


@transaction.atomic
def seed_demo_hub() -> SeedResult:
    """Create or refresh the demo hub. Safe to run again: it matches on names, never duplicates."""
    agencies: dict[str, Agency] = {}
    agencies_created = 0
    for name, kind, participation, asked_by_default in DEMO_AGENCIES:
        agency, created = Agency.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "participation": participation,
                "asked_by_default": asked_by_default,
            },
        )
        if agency.asked_by_default != asked_by_default:
            agency.asked_by_default = asked_by_default
            agency.save(update_fields=["asked_by_default", "updated_at"])
        agencies[name] = agency
        agencies_created += created
    policy = SharingPolicy.current()
    if policy.lead_agency_id != agencies[LEAD_AGENCY].pk:
        policy.lead_agency = agencies[LEAD_AGENCY]
        policy.save(update_fields=["lead_agency"])

    groups = {group.name: group for group in Group.objects.filter(name__in=Role.values)}
    users_created = 0
    for demo in DEMO_USERS:
        user, created = User.objects.update_or_create(
            username=demo.username,
            defaults={
                "first_name": demo.first_name,
                "last_name": demo.last_name,
                "job_title": demo.job_title,
                "email": f"{demo.username}@demo.mash.invalid",
                "agency": agencies[demo.agency],
                "is_active": True,
            },
        )
        # The printed password must keep working after someone changed it in the demo.
        user.set_password(demo.password)
        user.save(update_fields=["password"])
        user.groups.set([groups[role] for role in demo.roles])
        users_created += created
    return SeedResult(agencies_created, users_created, DEMO_USERS)


BACKGROUND_NOTICES = (Notification.Kind.BACKGROUND_FAULT, Notification.Kind.BACKGROUND_RECOVERED)


@transaction.atomic
def seed_demo_background_notices(*, now: datetime) -> int:
    """A night last week when the background work stopped for 20 minutes (Redis restarted
    and beat with it), as the administrators were told of it and of its end
    (mash.health.watch). Once only: returns how many notifications it added."""
    if Notification.objects.filter(kind__in=BACKGROUND_NOTICES).exists():
        return 0
    night = timezone.localtime(now - timedelta(days=6)).replace(
        hour=2, minute=10, second=0, microsecond=0
    )
    told, over = night + timedelta(minutes=5), night + timedelta(minutes=20)
    administrators = User.objects.filter(groups__name=Role.ADMINISTRATOR, is_active=True)
    notices = []
    for administrator in administrators.distinct():
        notices += [
            Notification(
                recipient=administrator,
                kind=Notification.Kind.BACKGROUND_FAULT,
                message=background_fault_message(
                    since=night, failing=["redis down", "workers unknown"]
                ),
                created_at=told,
                read_at=told + timedelta(hours=7),
            ),
            Notification(
                recipient=administrator,
                kind=Notification.Kind.BACKGROUND_RECOVERED,
                message=background_recovered_message(since=night, at=over),
                created_at=over,
                read_at=over + timedelta(hours=7),
            ),
        ]
    return len(Notification.objects.bulk_create(notices))
