"""When a record was first read by someone outside its agency (docs/domain.md section 5.5).

Until then its agency corrects or withdraws it freely, as a draft nobody else has seen; after
it, only with a reason the hub is told (sharing.revisions). Every page, download and API
answer that shows records' content tells the access log (audit.access_log.content_shown),
which calls `note_first_reads`, registered at start-up: this is the one place that sets
`first_read_at`. A signpost, and a withdrawn record, show no content, so they are not read.
"""

from collections.abc import Sequence

from django.utils import timezone

from agencies.models import User
from audit.access_log import Seen

from .firewall import ShownRecord
from .models import InformationRecord


def note_first_reads(user: User, records: Sequence[Seen]) -> None:
    """The records among `records` (all with content shown to `user`) that someone outside
    their agency reads for the first time, marked read: one UPDATE, only if there is any."""
    unread = [
        record.pk
        for record in records
        if isinstance(record, ShownRecord)
        and record.content_visible
        and record.agency_id != user.agency_id
        and record.first_read_at is None
    ]
    if unread:
        InformationRecord.objects.filter(pk__in=unread, first_read_at__isnull=True).update(
            first_read_at=timezone.now()
        )
