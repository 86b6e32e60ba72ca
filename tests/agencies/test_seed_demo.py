from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from agencies.demo import DEMO_AGENCIES, DEMO_USERS
from agencies.models import Agency, Role, User

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_it_creates_the_agencies_of_a_county_mash():
    seed()

    names = set(Agency.objects.values_list("name", flat=True))
    assert names == {name for name, _, _ in DEMO_AGENCIES}
    kinds = set(Agency.objects.values_list("kind", flat=True))
    assert {"childrens_social_care", "police", "health", "education", "probation"} <= kinds
    participations = set(Agency.objects.values_list("participation", flat=True))
    assert participations == {"co_located", "part_time", "virtual"}


def test_it_creates_a_login_for_every_role_across_several_agencies():
    seed()

    users = User.objects.prefetch_related("groups")
    held = {role for user in users for role in user.roles}
    assert held == set(Role.values)
    assert len({user.agency_id for user in users}) >= 3


def test_every_printed_password_signs_in():
    output = seed()

    for demo in DEMO_USERS:
        assert f"{demo.username:<11} {demo.password}" in output
        assert authenticate(username=demo.username, password=demo.password) is not None


def test_running_it_twice_creates_nothing_twice():
    seed()
    counts = (Agency.objects.count(), User.objects.count())
    User.objects.filter(username="police").update(first_name="Changed")

    output = seed()

    assert (Agency.objects.count(), User.objects.count()) == counts
    assert "0 agencies and 0 people created" in output
    assert User.objects.get(username="police").first_name == "Paul"
    assert authenticate(username="police", password="police-demo-2026") is not None


def test_it_adds_demo_enquiries_on_request():
    assert "Demo enquiries" not in seed("--enquiries", "0")

    assert "Demo enquiries: 30 created" in seed("--enquiries", "30")

    with pytest.raises(CommandError, match="0 or more"):
        seed("--enquiries", "-1")
