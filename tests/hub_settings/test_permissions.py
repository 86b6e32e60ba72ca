"""Hub settings are the administrators' (and superusers'), past the one-time password; every
other role gets the 403 page, and the Django admin is now the superusers' alone."""

import pytest
from django.urls import reverse

from agencies.models import Role
from tests.two_factor import password_only_login

pytestmark = pytest.mark.django_db

PAGES = [
    "index",
    "opening-hours",
    "closure-days",
    "add-closure-day",
    "bank-holidays",
    "allowances",
    "escalation",
    "sharing",
    "history",
]
OTHER_ROLES = [Role.MANAGER, Role.RESEARCHER, Role.PRACTITIONER, Role.ANALYST, Role.AUDITOR]


@pytest.mark.parametrize("page", PAGES)
def test_administrators_and_superusers_open_every_page(client, make_user, page):
    url = reverse(f"hub-settings:{page}")
    client.force_login(make_user(Role.ADMINISTRATOR))
    assert client.get(url).status_code == 200
    client.force_login(make_user(is_superuser=True))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("role", OTHER_ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_every_other_role_is_refused(client, make_user, role, page):
    client.force_login(make_user(role))

    response = client.get(reverse(f"hub-settings:{page}"))

    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_no_other_role_can_post_a_change(client, make_user, role):
    client.force_login(make_user(role))

    response = client.post(reverse("hub-settings:allowances"), {"confirm": "1"})

    assert response.status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_someone_signed_out_is_sent_to_sign_in(client, page):
    url = reverse(f"hub-settings:{page}")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_administrator_past_the_password_alone_goes_on_to_the_one_time_password(
    client, make_user
):
    password_only_login(client, make_user(Role.ADMINISTRATOR))

    response = client.get(reverse("hub-settings:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor"))


def test_the_admin_is_closed_to_an_administrator_who_is_not_a_superuser(client, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))

    index = client.get(reverse("admin:index"))
    clock = client.get(reverse("admin:enquiries_hubclock_change", args=[1]))

    assert index.status_code == 302  # to the admin's sign-in, which refuses them
    assert client.get(index["Location"]).status_code == 403
    assert clock.status_code == 302


def test_the_admin_opens_to_a_superuser(client, make_user):
    client.force_login(make_user(is_superuser=True))

    assert client.get(reverse("admin:index")).status_code == 200


def test_administration_links_to_hub_settings_not_the_admin_for_the_clock(client, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))

    page = client.get(reverse("administration")).content.decode()

    assert f'href="{reverse("hub-settings:index")}"' in page
    assert f'href="{reverse("hub-settings:escalation")}"' in page
    assert reverse("admin:enquiries_hubclock_change", args=[1]) not in page
