from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_every_model_change_has_a_committed_migration():
    out = StringIO()

    call_command("makemigrations", "--check", "--dry-run", stdout=out)

    assert "No changes detected" in out.getvalue()


def test_the_role_groups_migration_reverses_and_reapplies():
    # PostgreSQL migrates inside the test's transaction, so no flush disturbs other tests.
    from django.contrib.auth.models import Group

    call_command("migrate", "agencies", "0001", verbosity=0)
    assert not Group.objects.filter(name="researcher").exists()

    call_command("migrate", verbosity=0)
    assert Group.objects.filter(name="researcher").exists()
