"""A page logs its records' views in one batch (a hundred at a million enquiries): the batch
is hashed and inserted without Django preparing each value, and must chain, store and verify
exactly as entries written one at a time did."""

from datetime import datetime, timedelta, timezone

import pytest

from audit import access_log
from audit.access_log import verify_access_log
from audit.models import AccessLogEntry
from core.append_only import entry_digest
from sharing import firewall

Log = AccessLogEntry.Action
Channel = AccessLogEntry.Channel

# Written by the json.dumps(..., sort_keys=True, separators=(",", ":")) the chain began with:
# a digest that changed would break the chain at the first entry written after it.
ENTRY = {
    "at": datetime(2026, 3, 29, 0, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1))),
    "user_id": 7,
    "agency_id": 2,
    "role": "manager, practitioner",
    "action": "view",
    "channel": "page",
    "record_id": 31,
    "enquiry_id": 12,
    "person_id": 40,
    "account_id": None,
    "reason": "Working on MASH-2026-000012 as Researcher – “quoted” é",
    "terms": "",
    "address": "2001:0db8:0000:0000:0000:0000:0000:0001",
    "request_id": "abc",
}


def test_an_entry_hashes_as_it_always_did():
    assert entry_digest(AccessLogEntry, ENTRY, "f" * 64) == (
        "2971c385c31e20d8b06771d45bff41c2043345f7668fba9d18af6264b3d87232"
    )
    bare = {**ENTRY, "address": None, "reason": "", "record_id": None}
    assert entry_digest(AccessLogEntry, bare, "") == (
        "3ca60ecb2688152975e1dc6e47c978746eaf94f9b502d485b8b0fcf348889ff6"
    )


@pytest.mark.django_db
def test_a_batch_is_stored_in_order_each_entry_chained_to_the_one_before(hub):
    records = [hub.record("sensitive", marker=f"M{n}", agency="health") for n in range(3)]
    access_log.log_access(user=hub.researcher, action=Log.SEARCH, channel=Channel.SEARCH)
    batch = access_log.access_entries(
        user=hub.researcher, action=Log.VIEW, channel=Channel.PAGE, records=records, reason="r"
    )
    batch[1].address = "2001:0db8::0001"

    access_log.write_access_log(batch)

    assert [entry.pk for entry in batch] == sorted(entry.pk for entry in batch)
    stored = list(
        AccessLogEntry.objects.filter(pk__in=[entry.pk for entry in batch]).order_by("pk")
    )
    assert [entry.record_id for entry in stored] == [record.pk for record in records]
    assert [(entry.hash, entry.previous_hash) for entry in stored] == [
        (entry.hash, entry.previous_hash) for entry in batch
    ]
    assert stored[0].previous_hash == AccessLogEntry.objects.get(action=Log.SEARCH).hash
    assert stored[1].address == "2001:db8::1"
    assert stored[2].at == batch[2].at and stored[2].at.tzinfo is not None
    assert verify_access_log() is None


@pytest.mark.django_db
def test_views_of_many_records_share_who_and_when_and_each_keeps_its_reason(hub):
    records = [hub.record("sensitive", marker=marker) for marker in ("one", "two")]
    shown = [firewall.record_for(hub.police_officer, record.pk) for record in records]

    entries = access_log.content_view_entries(
        user=hub.police_officer,
        records=shown,
        channel=Channel.PAGE,
        reasons={hub.enquiry.pk: "Working on it"},
    )

    assert [entry.record_id for entry in entries] == [record.pk for record in records]
    assert [entry.reason for entry in entries] == ["Working on it", "Working on it"]
    assert entries[0].at == entries[1].at
    assert {entry.user_id for entry in entries} == {hub.police_officer.pk}
