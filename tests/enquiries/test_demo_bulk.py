"""A large demo top-up on PostgreSQL is bulk loaded (core.bulk_load): the same demo as the
ordinary path, and the tables' indexes and constraints as they were."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from demo import enquiries as demo_enquiries
from demo.enquiries import BULK_LOADED, seed_demo_enquiries
from demo.hub import seed_demo_hub
from enquiries.models import Enquiry, EnquiryEvent, EscalationRepeat, Notification, OutgoingEmail
from tests.database import indexes_and_constraints

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 25, 10, 30, tzinfo=UTC)  # a Wednesday morning, hub open
IDS = {"id", "family_id", "subject_id", "created_at", "updated_at"}


@pytest.fixture(autouse=True)
def hub(db):
    if connection.vendor != "postgresql":
        pytest.skip("the bulk load is PostgreSQL's (SQLite seeds through core.bulk)")
    seed_demo_hub()


def demo() -> dict[str, list]:
    """The demo's rows by what they mean, not by their ids."""
    fields = [
        field.attname
        for field in Enquiry._meta.concrete_fields
        if field.attname not in IDS and not field.attname.endswith("_by_id")
    ]
    enquiries = Enquiry.objects.values_list(
        *fields,
        "family__reference",
        "subject__first_name",
        "subject__last_name",
        "subject__date_of_birth",
        "created_by__username",
        "decided_by__username",
        "escalation_acknowledged_by__username",
    )
    return {
        "enquiries": sorted(enquiries, key=lambda row: row[fields.index("reference")]),
        "events": sorted(
            EnquiryEvent.objects.values_list(
                "enquiry__reference", "version", "kind", "at", "actor__username", "to_value"
            )
        ),
        "notices": sorted(
            Notification.objects.exclude(enquiry=None).values_list(
                "enquiry__reference", "recipient__username", "kind", "message", "read_at"
            )
        ),
        "repeats": sorted(
            EscalationRepeat.objects.values_list(
                "enquiry__reference", "round", "recipient__username", "sent_at"
            )
        ),
        # One email in fifty fails, chosen by the enquiry's id: only what was sent is compared.
        "emails": sorted(OutgoingEmail.objects.values_list("enquiry__reference", "subject")),
    }


def schema() -> list[tuple]:
    return indexes_and_constraints(*BULK_LOADED)


def test_the_bulk_load_seeds_the_same_demo_as_the_ordinary_path(monkeypatch):
    indexes = schema()
    seeded = {}
    for bulk_from in (10**9, 1):
        monkeypatch.setattr(demo_enquiries, "BULK_FROM", bulk_from)
        with transaction.atomic():
            assert seed_demo_enquiries(target=400, now=NOW) == 400
            seeded[bulk_from] = demo()
            transaction.set_rollback(True)

    assert seeded[1] == seeded[10**9]
    assert len(seeded[1]["enquiries"]) == 400
    assert seeded[1]["repeats"] and seeded[1]["notices"] and seeded[1]["emails"]
    assert schema() == indexes


def test_only_a_top_up_as_large_as_the_hub_is_bulk_loaded(monkeypatch):
    monkeypatch.setattr(demo_enquiries, "BULK_FROM", 100)
    seed_demo_enquiries(target=150, now=NOW)

    assert demo_enquiries._worth_bulk_loading(150)
    assert not demo_enquiries._worth_bulk_loading(149)
    assert not demo_enquiries._worth_bulk_loading(99)
