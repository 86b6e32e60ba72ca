from collections.abc import Mapping
from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    """The hub's roles (docs/domain.md section 2). Each is a Django group of the same name."""

    RESEARCHER = "researcher", "Researcher"
    PRACTITIONER = "practitioner", "Agency practitioner"
    MANAGER = "manager", "Manager"
    ANALYST = "analyst", "Analyst"
    AUDITOR = "auditor", "Auditor"
    ADMINISTRATOR = "administrator", "Administrator"


# The hub's own working roles see every enquiry; practitioners work on those their agency was
# asked about (sharing.firewall decides which).
HUB_ROLES = (Role.RESEARCHER, Role.MANAGER)
WORKING_ROLES = (Role.RESEARCHER, Role.MANAGER, Role.PRACTITIONER)


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


class MashUserManager(UserManager["User"]):
    def get_queryset(self):
        return super().get_queryset().select_related("agency")


class User(AbstractUser):
    """A person who signs in. MASH staff are employed by their own agencies, so each has one."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="members")
    job_title = models.CharField(max_length=200, blank=True)

    objects: ClassVar[MashUserManager] = MashUserManager()

    # What the password and active flag were before a save that may change them: set and
    # cleared by agencies.sessions around each save, never a column.
    _before_save: Mapping[str, object] | None

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


class AccountEventKind(models.TextChoices):
    """What can happen to an account, as the account log (audit.AccountEvent) records it."""

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
    SET_UP_CODE_USED = "set_up_code_used", "Password chosen with a set-up code"
    SET_UP_CODE_REFUSED = "set_up_code_refused", "Set-up code refused"


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


class AccessChange(models.Model):
    """A change that gives someone access (a role, another agency, their account back) or
    could hand their account to someone else (a password or two-factor reset), asked for by one
    administrator and doing nothing until a second approves it. Taking access away needs no
    second person and makes no request (agencies.access)."""

    class Kind(models.TextChoices):
        ADD_ROLE = "add_role", "Add a role"
        MOVE_AGENCY = "move_agency", "Move to another agency"
        REACTIVATE = "reactivate", "Reactivate the account"
        RESET_PASSWORD = "reset_password", "Reset the password (a set-up code)"
        RESET_TWO_FACTOR = "reset_two_factor", "Reset two-factor sign-in"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    account = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="access_changes",
        help_text="The person whose access would change.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a move: the agency they would join.",
    )
    reason = models.TextField(help_text="Why, in the requesting administrator's words.")
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="access_changes_requested"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_changes_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    # On the change agencies.access.access_change_approve returns: a password reset's set-up
    # code, to show once (None for other kinds). Never a column.
    one_time_code: str | None

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="add_role", role__in=Role.values, agency__isnull=True)
                | models.Q(kind="move_agency", role="", agency__isnull=False)
                | models.Q(
                    kind__in=["reactivate", "reset_password", "reset_two_factor"],
                    role="",
                    agency__isnull=True,
                ),
                name="access_change_says_what",
            ),
            # The rules the service keeps, kept by the database too: nobody asks for access
            # for themselves, and a second person, not the one it is about, decides.
            models.CheckConstraint(
                condition=~models.Q(requested_by=models.F("account")),
                name="access_change_not_for_oneself",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status="pending", decided_by__isnull=True, decided_at__isnull=True
                )
                | (
                    ~models.Q(status="pending")
                    & ~models.Q(decided_by=models.F("requested_by"))
                    & ~models.Q(decided_by=models.F("account"))
                    & models.Q(decided_by__isnull=False, decided_at__isnull=False)
                ),
                name="access_change_decided_by_a_second_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined", decision_note=""),
                name="access_change_decline_says_why",
            ),
            models.UniqueConstraint(
                fields=["account", "kind", "role"],
                condition=models.Q(status="pending"),
                name="access_change_once_while_pending",
                violation_error_message="This change is already waiting for approval.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.describe()}"

    def describe(self) -> str:
        """What the change does, in words, for pages and the access log."""
        if self.kind == self.Kind.ADD_ROLE:
            return f"add role {Role(self.role).label}"
        if self.kind == self.Kind.MOVE_AGENCY:
            return f"move to {self.agency}"
        if self.kind == self.Kind.RESET_PASSWORD:
            return "reset the password: they choose a new one with a one-time set-up code"
        if self.kind == self.Kind.RESET_TWO_FACTOR:
            return "reset two-factor sign-in: they set up an authenticator app again"
        return "reactivate the account"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class SetUpCodeQuerySet(models.QuerySet):
    def live(self):
        """Codes that still work: not used, not replaced, not expired, not guessed at too often."""
        return self.filter(
            used_at__isnull=True,
            voided_at__isnull=True,
            expires_at__gt=timezone.now(),
            failed_attempts__lt=SetUpCode.MAX_FAILED_ATTEMPTS,
        )


class SetUpCode(models.Model):
    """A one-time code with which a person chooses a new password (agencies.set_up_codes):
    issued when a second administrator approves a password reset, or for the first
    administrators. Shown once, to whoever it was issued to, to hand over in person or by
    phone; only its SHA-256 digest is kept."""

    MAX_FAILED_ATTEMPTS = 5

    account = models.ForeignKey(User, on_delete=models.PROTECT, related_name="set_up_codes")
    access_change = models.OneToOneField(
        AccessChange,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="set_up_code",
        help_text="The approved reset it came from; empty for the first administrators.",
    )
    issued_to = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The administrator who was shown it; empty when a management command was.",
    )
    digest = models.CharField(max_length=64, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(
        null=True, blank=True, help_text="When a later code for the same person replaced it."
    )
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    objects = SetUpCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"Set-up code for {self.account}, issued {self.issued_at:%Y-%m-%d %H:%M}"
