from django.core.management.base import BaseCommand, CommandError

from audit.access_log import verify_access_log
from audit.models import AccessLogEntry


class Command(BaseCommand):
    help = (
        "Check the access log's hash chain from its first entry and name the first entry "
        "that was changed, deleted or slipped in. Exits 1 if the chain is broken."
    )

    def handle(self, *args, **options) -> None:
        link = verify_access_log()
        if link is not None:
            raise CommandError(f"The access log's chain is broken: {link}.")
        count = AccessLogEntry.objects.count()
        self.stdout.write(f"The access log holds: {count} entries, every one chained.")
