"""An optional read replica (mash.db_router, issue 23): reports and exports read from it,
everything else and every write go to the primary.

A second real PostgreSQL database stands in for the replica: a copy of the migrated template,
so it has every table and the migrations' rows but none of a test's own, as a replica that
has not yet caught up would. What a page counts therefore says where it read."""

import copy
import csv
import io
from collections.abc import Iterator

import pytest
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agencies.models import Role, User
from audit.models import AccessLogEntry
from enquiries.models import Enquiry, Rag
from mash.db_router import REPLICA, from_replica
from tests import database

pytestmark = [
    pytest.mark.django_db(databases=["default", REPLICA]),
    pytest.mark.skipif(
        connections["default"].vendor != "postgresql", reason="a replica is PostgreSQL's"
    ),
]

MARCH = {"start": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture(scope="module", autouse=True)
def replica(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The stand-in replica, as the "replica" alias, with the router installed as
    DATABASE_REPLICA_URL installs it. Module-scoped, so it exists before each test's
    transactions are opened on both databases."""
    primary = connections["default"].settings_dict
    name = f"{primary['NAME']}_replica"[:63]
    with django_db_blocker.unblock():
        assert database.copy_template(database.template_name(primary["NAME"]), name)
    connections.settings[REPLICA] = {**copy.deepcopy(primary), "NAME": name}
    try:
        with override_settings(DATABASE_ROUTERS=["mash.db_router.ReplicaRouter"]):
            yield name
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        with django_db_blocker.unblock():
            database._admin(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def march(make_enquiry):
    make_enquiry("2026-03-06 16:00", rating=Rag.RED, decided="2026-03-09 12:00")
    make_enquiry("2026-03-09 09:00", rating=Rag.RED, decided="2026-03-09 13:01")


@pytest.fixture
def manager(client, make_user):
    user = make_user(Role.MANAGER)
    client.force_login(user)
    return user


def queries_on(alias: str) -> CaptureQueriesContext:
    return CaptureQueriesContext(connections[alias])


def csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_report_reads_the_replica_and_its_download_is_logged_on_the_primary(
    client, manager, march
):
    with queries_on(REPLICA) as on_replica:
        response = client.get(reverse("report-csv", args=["timeliness"]), MARCH)
        rows = csv_rows(response)

    # The primary has March's two red enquiries; the replica has not caught up with them.
    assert Enquiry.objects.using("default").count() == 2
    assert rows[0]["rag"] == "Red" and rows[0]["enquiries"] == "0"
    assert on_replica.captured_queries
    assert not any("agencies_user" in query["sql"] for query in on_replica.captured_queries)
    exports = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT)
    assert exports.using("default").get().user == manager
    assert not exports.using(REPLICA).exists()


def test_a_report_page_reads_the_replica(client, manager, march):
    with queries_on(REPLICA) as on_replica:
        response = client.get(reverse("report", args=["timeliness"]), MARCH)

    assert response.status_code == 200
    assert on_replica.captured_queries


def test_the_log_export_writes_first_so_reads_what_it_wrote_from_the_primary(make_user, client):
    auditor = make_user(Role.AUDITOR)
    client.force_login(auditor)

    with queries_on(REPLICA) as on_replica:
        response = client.get(reverse("audit-export"))
        rows = csv_rows(response)

    assert response.status_code == 200
    assert on_replica.captured_queries == []
    assert len(rows) == AccessLogEntry.objects.using("default").count() >= 1


@pytest.mark.parametrize("page", ["triage-queue", "manager-dashboard"])
def test_other_pages_read_the_primary(client, manager, march, page):
    with queries_on(REPLICA) as on_replica:
        response = client.get(reverse(page))

    assert response.status_code == 200
    assert on_replica.captured_queries == []


def test_a_block_reads_case_data_from_the_replica_until_it_writes(manager):
    with from_replica(), queries_on(REPLICA) as on_replica, queries_on("default") as on_primary:
        assert Enquiry.objects.count() == 0  # the replica's
        assert User.objects.filter(pk=manager.pk).exists()  # accounts: always the primary's
        replica_reads = len(on_replica.captured_queries)
        AccessLogEntry.objects.create(
            user=manager, agency=manager.agency, action="export", channel="export"
        )
        assert AccessLogEntry.objects.count() == 1  # the primary's, just written

    assert replica_reads == 1
    assert len(on_replica.captured_queries) == 1
    assert any("sharing_accesslogentry" in query["sql"] for query in on_primary.captured_queries)
    assert not AccessLogEntry.objects.using(REPLICA).exists()


def test_outside_a_report_or_a_block_everything_reads_the_primary(manager):
    with queries_on(REPLICA) as on_replica:
        assert Enquiry.objects.count() == 0
        assert AccessLogEntry.objects.count() == 0

    assert on_replica.captured_queries == []
