from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    """The hub's roles (domain.md section 2). Each is a Django group of the same name."""

    RESEARCHER = "researcher", "Researcher"
    PRACTITIONER = "practitioner", "Agency practitioner"
    MANAGER = "manager", "Manager"
    ANALYST = "analyst", "Analyst"
    AUDITOR = "auditor", "Auditor"
    ADMINISTRATOR = "administrator", "Administrator"


class Agency(models.Model):
    """A partner organisation in the hub. Hubs differ, so agencies are data, never code."""

    class Kind(models.TextChoices):
        CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
        POLICE = "police", "Police"
        HEALTH = "health", "Health"
        EDUCATION = "education", "Education"
        PROBATION = "probation", "Probation"
        YOUTH_OFFENDING = "youth_offending", "Youth offending"
        HOUSING = "housing", "Housing"
        ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
        FIRE = "fire", "Fire and rescue"
        AMBULANCE = "ambulance", "Ambulance"
        SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
        DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
        OTHER = "other", "Other"

    class Participation(models.TextChoices):
        CO_LOCATED = "co_located", "Co-located"
        PART_TIME = "part_time", "Part-time"
        VIRTUAL = "virtual", "Virtual"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    participation = models.CharField(
        max_length=16,
        choices=Participation.choices,
        default=Participation.CO_LOCATED,
        help_text="How the agency takes part: in the room, some days, or from its own office.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive agencies keep their history but receive no new work."
    )
    asked_by_default = models.BooleanField(
        default=True,
        help_text="Part of the usual set asked for information about every enquiry.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="agency_name_unique_ci",
                violation_error_message="An agency with this name already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MashUserManager(UserManager):
    def get_queryset(self):
        return super().get_queryset().select_related("agency")


class User(AbstractUser):
    """A person who signs in. MASH staff are employed by their own agencies, so each has one."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="members")
    job_title = models.CharField(max_length=200, blank=True)

    objects = MashUserManager()

    REQUIRED_FIELDS = ["email", "agency"]

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def _role_groups(self) -> dict[str, int]:
        """Role name to group id, read from the database once per request."""
        cached = getattr(self, "_role_group_cache", None)
        if cached is None:
            valid = set(Role.values)
            cached = {g.name: g.pk for g in self.groups.all() if g.name in valid}
            self._role_group_cache = cached
        return cached

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self._role_groups())

    def role_group_ids(self, *roles: str) -> list[int]:
        """The ids of the groups behind the user's roles among `roles`, for queries that
        should not join the user's groups again."""
        return [pk for name, pk in self._role_groups().items() if name in roles]

    def has_role(self, *roles: str) -> bool:
        return self.is_active and bool(self.roles.intersection(roles))
