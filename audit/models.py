"""The hub's two logs of who did what, kept apart from the case data they describe.

The access log (`AccessLogEntry`) holds every look at, search of, export of and decision about
person-level or agency information, and every change to who may see it; the account log
(`AccountEvent`) every sign-in, lockout and change to an account's second factor. Both are
append-only in the database (audit.protection), and the access log is hash-chained.

Entries name the enquiry, person and record they are about by foreign keys to the apps above,
named as strings: this app imports none of them, and the database keeps the references true.
The tables keep the names they had when the logs lived in `sharing` and `agencies`.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from agencies.models import AccountEventKind, Agency
from core.append_only import AppendOnlyModel, ChainedLogModel


class AccountEvent(AppendOnlyModel):
    """Something that happened to a person's account: a sign-in, a failed attempt, a sign-out,
    a lockout, a change to their two-factor authentication. Written once, never changed; the
    database refuses updates and deletes too (audit.protection)."""

    Kind = AccountEventKind

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
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
        db_table = "agencies_accountevent"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_kind_display()}"


# What each access log entry's hash covers: never change this list (sharing migration 0006).
CHAINED_FIELDS = (
    "at",
    "user_id",
    "agency_id",
    "role",
    "action",
    "channel",
    "record_id",
    "enquiry_id",
    "person_id",
    "account_id",
    "reason",
    "terms",
    "address",
    "request_id",
)


# Takes the writers' lock and reads the newest hash in one call (audit migration 0006).
HEAD_FUNCTION = "access_log_head"


class AccessLogEntry(ChainedLogModel):
    """One look at, search of, export of, or decision about, person-level or agency
    information, and every change to who may see it: who, in which role and agency, when,
    from where, in which request, about which record, person and enquiry, what and why
    (DPA 2018 s.62). Written once, never changed, each entry chained to the one before. On
    PostgreSQL the table is partitioned by month of `at` (audit.partitions)."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed sensitive content"
        VIEW_PERSON = "view_person", "Viewed person-level information"
        SEARCH = "search", "Searched"
        RELEASE_REQUEST = "release_request", "Requested release"
        RELEASE = "release", "Released"
        REFUSE = "refuse", "Refused release"
        CORRECT_RECORD = "correct_record", "Corrected a record"
        WITHDRAW_RECORD = "withdraw_record", "Withdrew a record"
        EXPORT = "export", "Exported"
        READ_LOG = "read_log", "Read the logs"
        DENIED = "denied", "Attempt refused"
        ACCESS_REQUESTED = "access_requested", "Access change requested"
        ACCESS_GRANTED = "access_granted", "Access change approved"
        ACCESS_DECLINED = "access_declined", "Access change declined"
        ACCESS_REMOVED = "access_removed", "Access removed"

    class Channel(models.TextChoices):
        PAGE = "page", "Web page"
        API = "api", "API"
        EXPORT = "export", "Export"
        SEARCH = "search", "Search"
        ADMIN = "admin", "Administration"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_log_entries"
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="access_log_entries",
        help_text="The user's agency when they acted.",
    )
    role = models.CharField(
        max_length=100, blank=True, help_text="The user's roles when they acted, comma-separated."
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    record = models.ForeignKey(
        "sharing.InformationRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_log_entries",
    )
    enquiry = models.ForeignKey(
        "enquiries.Enquiry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_log_entries",
    )
    person = models.ForeignKey(
        "enquiries.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_log_entries",
        help_text="The person whose information it was.",
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_changes_logged",
        help_text="For a change to access: the account whose access changed.",
    )
    reason = models.TextField(
        blank=True, help_text="The justification: the enquiry worked on and the user's part in it."
    )
    terms = models.TextField(blank=True, help_text="What was searched for, or an export's filters.")
    address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(
        max_length=64, blank=True, help_text="The request it happened in, as its logs name it."
    )

    log_name = "access log"
    chained_fields = CHAINED_FIELDS
    head_function = HEAD_FUNCTION

    class Meta:
        db_table = "sharing_accesslogentry"
        ordering = ["-at", "-id"]
        verbose_name_plural = "access log entries"
        indexes = [
            # The auditor's "an agency's exports (or releases...)", newest first: at 10,000,000
            # entries 67 ms a page through the agency's index alone, 37 ms through this.
            models.Index(
                fields=["agency", "action", "-at", "-id"], name="access_log_agency_action"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()}"
