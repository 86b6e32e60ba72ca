"""A replica that cannot be reached (mash.db_router): reports read the primary rather than fail,
and the replica is tried again only after a while, not on every read.

The "replica" alias here names a port nothing listens on, as a replica that is down would; it
is added after the test's own database is set up, so only the router ever connects to it."""

import logging

import pytest
from django.db import connections
from django.test import override_settings
from django.urls import reverse

from agencies.models import Role
from enquiries.models import Rag
from mash import db_router
from mash.db_router import REPLICA

pytestmark = pytest.mark.skipif(
    connections["default"].vendor != "postgresql", reason="a replica is PostgreSQL's"
)

MARCH = {"start": "2026-03-01", "to": "2026-03-31"}
NOBODY_LISTENS = "1"


@pytest.fixture
def replica_down(db, monkeypatch):
    """The router installed, its replica unreachable, and this process's clock for retrying it
    in the test's hands (seconds, as time.monotonic counts them)."""
    connections.settings[REPLICA] = {
        **connections["default"].settings_dict,
        "PORT": NOBODY_LISTENS,
        "OPTIONS": {"connect_timeout": 2},
    }
    replica = connections[REPLICA]

    def ensure_connection():
        """Django's own, which the test case refuses for an alias it was not given."""
        if replica.connection is None:
            with replica.wrap_database_errors:
                replica.connect()

    replica.ensure_connection = ensure_connection
    clock = {"now": 1000.0}
    monkeypatch.setattr(db_router.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(db_router, "_replica_retry_at", 0.0)
    try:
        with override_settings(DATABASE_ROUTERS=["mash.db_router.ReplicaRouter"]):
            yield clock
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture
def manager(client, make_user):
    user = make_user(Role.MANAGER)
    client.force_login(user)
    return user


def test_a_report_reads_the_primary_when_the_replica_is_down(
    client, manager, make_enquiry, replica_down, caplog
):
    make_enquiry("2026-03-06 16:00", rating=Rag.RED, decided="2026-03-09 12:00")
    make_enquiry("2026-03-09 09:00", rating=Rag.RED, decided="2026-03-09 13:01")

    with caplog.at_level(logging.WARNING, logger="mash.db_router"):
        response = client.get(reverse("report-csv", args=["timeliness"]), MARCH)
        text = b"".join(response.streaming_content).decode("utf-8-sig")

    assert response.status_code == 200
    # March's two red enquiries, counted on the primary: one decided on time, one late.
    assert "\r\nRed,240,2,1,50.0," in text
    (warning,) = caplog.records
    assert "read replica cannot be reached" in warning.getMessage()


def test_the_replica_is_tried_again_only_after_a_while(client, manager, replica_down):
    tries = []
    replica = connections[REPLICA]
    connect = replica.ensure_connection

    def counted():
        tries.append(replica_down["now"])
        connect()

    replica.ensure_connection = counted
    report = reverse("report", args=["timeliness"])

    assert client.get(report, MARCH).status_code == 200
    assert client.get(report, MARCH).status_code == 200
    assert tries == [1000.0]  # once, not on every read of either request

    replica_down["now"] += db_router.REPLICA_RETRY_SECONDS
    assert client.get(report, MARCH).status_code == 200
    assert tries == [1000.0, 1000.0 + db_router.REPLICA_RETRY_SECONDS]
