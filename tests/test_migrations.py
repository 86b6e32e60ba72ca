from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_every_model_change_has_a_committed_migration():
    out = StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=out)

    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_migrations_reverse_to_the_first_and_reapply(migration_data):
    from django.contrib.auth.models import Group

    from enquiries.models import HubClock, Outcome

    call_command("migrate", "enquiries", "zero", verbosity=0)
    call_command("migrate", "agencies", "0001", verbosity=0)
    assert not Group.objects.filter(name="researcher").exists()

    call_command("migrate", verbosity=0)
    assert Group.objects.filter(name="researcher").exists()
    assert HubClock.objects.get().ragallowance_set.count() == 4
    assert Outcome.objects.filter(leads_to_referral=True).count() == 3
    assert dict(Outcome.objects.exclude(fits=Outcome.Fits.ANY).values_list("code", "fits")) == {
        "early_help": "child",
        "csc_assessment": "child",
        "strategy_discussion": "child",
        "adult_social_care": "adult",
    }


@pytest.mark.django_db(transaction=True)
def test_the_logs_move_to_audit_with_their_rows_and_content_types(migration_data):
    """The logs moved from sharing and agencies by state alone: their tables, rows and content
    types (so permissions and admin history) stay what they were."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from audit.models import AccessLogEntry, AccountEvent

    ids = {
        model: ContentType.objects.get_for_model(model).pk
        for model in (AccessLogEntry, AccountEvent)
    }
    ContentType.objects.clear_cache()

    call_command("migrate", "audit", "zero", verbosity=0)
    labels = dict(ContentType.objects.filter(pk__in=ids.values()).values_list("model", "app_label"))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO agencies_accountevent (at, kind, username, user_agent, detail)"
            " VALUES (%s, 'sign_in_failed', 'before-the-move', '', '')",
            [timezone.now()],
        )
    call_command("migrate", verbosity=0)
    ContentType.objects.clear_cache()

    assert labels == {"accesslogentry": "sharing", "accountevent": "agencies"}
    assert AccountEvent.objects.filter(username="before-the-move").exists()
    assert {model: ContentType.objects.get_for_model(model).pk for model in ids} == ids
    assert ContentType.objects.get_for_model(AccessLogEntry).app_label == "audit"
