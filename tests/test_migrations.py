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
