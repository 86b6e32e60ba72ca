import pytest

from agencies.models import Role
from tests.sharing.conftest import _hub_for_the_module, hub  # noqa: F401


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER)
