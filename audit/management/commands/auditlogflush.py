"""Replaces django-auditlog's `auditlogflush` (audit comes before auditlog in
INSTALLED_APPS, so this command is the one found): the change log is never emptied."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Refuses: the audit trail is append-only, so log entries are never deleted."

    def add_arguments(self, parser) -> None:
        # auditlog's options, accepted so that a script using them is refused the same way.
        parser.add_argument("-y", "--yes", action="store_true")
        parser.add_argument("-b", "--before-date")
        parser.add_argument("-t", "--truncate", action="store_true")

    def handle(self, *args, **options) -> None:
        raise CommandError(
            "The audit trail is append-only: its entries are never deleted, by anyone "
            "(on PostgreSQL the database refuses it too)."
        )
