from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from mash.append_only import AppendOnlyModel


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


class AccountEvent(AppendOnlyModel):
    """Something that happened to a person's account: a sign-in, a failed attempt, a sign-out,
    a lockout, a change to their two-factor authentication. Written once, never changed; the
    database refuses updates and deletes too (sharing migration 0004)."""

    class Kind(models.TextChoices):
        SIGNED_IN = "signed_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        SIGNED_OUT = "signed_out", "Signed out"
        LOCKED_OUT = "locked_out", "Locked out after failed sign-ins"
        STEP_UP_FAILED = "step_up_failed", "Password refused at release"
        TWO_FACTOR_ADDED = "two_factor_added", "Two-factor device added"
        TWO_FACTOR_REMOVED = "two_factor_removed", "Two-factor device removed"
        BACKUP_CODES_ISSUED = "backup_codes_issued", "Backup codes issued"
        TWO_FACTOR_PASSED = "two_factor_passed", "One-time password accepted"
        TWO_FACTOR_FAILED = "two_factor_failed", "One-time password refused"
        BACKUP_CODE_USED = "backup_code_used", "Backup code used"
        API_TOKEN_CREATED = "api_token_created", "API token created"
        API_TOKEN_REVOKED = "api_token_revoked", "API token revoked"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="account_events",
        help_text="The account; empty for a failed sign-in, which keeps only the name typed.",
    )
    username = models.CharField(
        max_length=150, help_text="The account's username, or for a failed sign-in the name typed."
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    log_name = "account log"

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_kind_display()}"


class ApiTokenQuerySet(models.QuerySet):
    def in_use(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A key a person's scripts send as `Authorization: Token <key>`. Only its SHA-256 digest is
    kept: the key is shown once, when it is made, and a stolen database cannot be replayed."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(
        max_length=100, help_text="What the token is for, in its owner's words."
    )
    prefix = models.CharField(
        max_length=8, help_text="The key's first characters, so its owner can tell keys apart."
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
