import importlib

import factory.random
import pytest
from django.conf import settings

from tests import two_factor
from tests.factories import AgencyFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    # Production hashes file names at collectstatic time; tests read files from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Real hashing (Argon2id) costs about 50 ms a password; the tests sign in thousands of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _same_made_up_names_every_run(request):
    """factory_boy's made-up names follow from the test's own name, so a test that a chance
    name would break (a colleague called Amy on a page checked for a child called Amy) fails
    on every run, not once in a few hundred."""
    factory.random.reseed_random(request.node.nodeid)


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """Tasks run eagerly in unit tests; tests marked `worker` use the real broker and worker."""
    from mash.celery import app

    eager = request.node.get_closest_marker("worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    """`client.force_login(user)` gives a session past both factors of sign-in, as most tests
    want; `tests.two_factor.password_only_login` gives one past the password alone."""
    from django.test import Client

    def force_login(self, user, backend=None):
        two_factor.password_only_login(self, user, backend)
        two_factor.pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(autouse=True)
def _fresh_clock():
    from enquiries.clock import forget_clock

    forget_clock()
    yield
    forget_clock()


DATA_MIGRATIONS = [
    ("agencies.migrations.0002_role_groups", "create_role_groups"),
    ("enquiries.migrations.0002_default_hub_clock", "create_default_clock"),
    ("enquiries.migrations.0004_referrer_types_and_outcomes", "create_reference_lists"),
    ("agencies.migrations.0005_api_tokens_and_sign_in_events", "grant_administrators"),
]


@pytest.fixture
def migration_data(transactional_db) -> None:
    """Transactional tests end with a flush that empties the data migrations' tables; this puts
    their rows (role groups, the default hub clock) back by running the same migration code."""
    from django.apps import apps

    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def agency(db):
    return AgencyFactory(name="Police", kind="police")


@pytest.fixture
def make_user(db):
    """A person in an agency with the given roles: make_user("researcher", agency=...)."""

    def make(*roles: str, **fields):
        return UserFactory(roles=roles, **fields)

    return make
