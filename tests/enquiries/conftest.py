"""The hub's two people most enquiry tests act as."""

import pytest

from agencies.models import Role


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, first_name="Rosa", last_name="Reid")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, first_name="Mo", last_name="Khan")
