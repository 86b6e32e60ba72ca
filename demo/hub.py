"""The demo hub: the agencies a county MASH has (domain.md section 3) and one login per role."""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from agencies.models import Agency, Role, User

Kind = Agency.Kind
Participation = Agency.Participation

DEMO_AGENCIES: list[tuple[str, str, str]] = [
    ("Children's Social Care", Kind.CHILDRENS_SOCIAL_CARE, Participation.CO_LOCATED),
    ("Police", Kind.POLICE, Participation.CO_LOCATED),
    ("Community Health", Kind.HEALTH, Participation.CO_LOCATED),
    ("Acute Hospital Trust", Kind.HEALTH, Participation.VIRTUAL),
    ("Mental Health Trust", Kind.HEALTH, Participation.PART_TIME),
    ("GP Safeguarding Leads", Kind.HEALTH, Participation.VIRTUAL),
    ("Education", Kind.EDUCATION, Participation.CO_LOCATED),
    ("Probation", Kind.PROBATION, Participation.PART_TIME),
    ("Youth Offending Service", Kind.YOUTH_OFFENDING, Participation.PART_TIME),
    ("Housing", Kind.HOUSING, Participation.VIRTUAL),
    ("Adult Social Care", Kind.ADULT_SOCIAL_CARE, Participation.CO_LOCATED),
    ("Fire and Rescue", Kind.FIRE, Participation.VIRTUAL),
    ("Ambulance Service", Kind.AMBULANCE, Participation.VIRTUAL),
    ("Drug and Alcohol Services", Kind.SUBSTANCE_MISUSE, Participation.VIRTUAL),
    ("Domestic Abuse Services", Kind.DOMESTIC_ABUSE, Participation.PART_TIME),
]


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
        "researcher",
        "Rosa",
        "Reid",
        "MASH researcher",
        "Children's Social Care",
        (Role.RESEARCHER,),
    ),
    DemoUser("police", "Paul", "Patel", "Detective constable", "Police", (Role.PRACTITIONER,)),
    DemoUser(
        "health", "Hana", "Hughes", "Safeguarding nurse", "Community Health", (Role.PRACTITIONER,)
    ),
    DemoUser(
        "education",
        "Eddie",
        "Evans",
        "Education safeguarding officer",
        "Education",
        (Role.PRACTITIONER,),
    ),
    DemoUser(
        "manager",
        "Maya",
        "Morgan",
        "MASH team manager",
        "Children's Social Care",
        (Role.MANAGER, Role.PRACTITIONER),
    ),
    DemoUser(
        "analyst", "Ali", "Ahmed", "Performance analyst", "Children's Social Care", (Role.ANALYST,)
    ),
    DemoUser(
        "auditor", "Aud", "Ingram", "Information governance officer", "Police", (Role.AUDITOR,)
    ),
    DemoUser(
        "admin",
        "Adam",
        "Ward",
        "MASH system owner",
        "Children's Social Care",
        (Role.ADMINISTRATOR,),
    ),
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
    for name, kind, participation in DEMO_AGENCIES:
        agency, created = Agency.objects.get_or_create(
            name=name, defaults={"kind": kind, "participation": participation}
        )
        agencies[name] = agency
        agencies_created += created

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
