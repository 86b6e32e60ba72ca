"""The change log entry is written in the transaction of the change it records: a service that
fails after its change leaves neither the change nor the entry."""

from unittest import mock

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from guardian.shortcuts import get_groups_with_perms

from audit.models import AccessLogEntry
from enquiries import services as enquiry_services
from enquiries.models import Enquiry
from sharing import services
from sharing.models import ReleaseDecision, ReleaseStatus

from .conftest import release

pytestmark = pytest.mark.django_db


class Failure(Exception):
    pass


def test_a_rating_that_fails_after_saving_leaves_no_change_and_no_entry(hub):
    entries = LogEntry.objects.count()

    with (
        set_actor(hub.manager),
        mock.patch.object(services, "refresh_request_due_times", side_effect=Failure),
        pytest.raises(Failure),
    ):
        enquiry_services.enquiry_rate(
            enquiry=hub.enquiry,
            actor=hub.manager,
            rating="red",
            rationale="Bruising.",
            expected_version=hub.enquiry.version,
        )

    enquiry = Enquiry.objects.get(pk=hub.enquiry.pk)
    assert (enquiry.rating, enquiry.version) == (hub.enquiry.rating, hub.enquiry.version)
    assert LogEntry.objects.count() == entries


def test_a_release_that_fails_at_the_end_leaves_no_decision_no_grant_and_no_entry(hub):
    record = hub.record("release_requested", marker="T")
    entries, accesses = LogEntry.objects.count(), AccessLogEntry.objects.count()

    with (
        set_actor(hub.police_officer),
        mock.patch.object(services, "_tell_requesters", side_effect=Failure),
        pytest.raises(Failure),
    ):
        release(record, hub.police_officer)

    record.refresh_from_db()
    assert record.release_status == ReleaseStatus.REQUESTED
    assert not ReleaseDecision.objects.exists()
    assert not get_groups_with_perms(record)
    assert (LogEntry.objects.count(), AccessLogEntry.objects.count()) == (entries, accesses)
