import importlib
import time

import factory.random
import pytest
import time_machine
from django.conf import settings

from tests import instants, two_factor
from tests.factories import AgencyFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    # Production hashes file names at collectstatic time; tests read files from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # WhiteNoise lists every static file each time a test client builds its middleware (0.3 s a
    # client); looking a file up when it is asked for serves the same files.
    settings.WHITENOISE_AUTOREFRESH = True
    # Real hashing (Argon2id) costs about 50 ms a password; the tests sign in thousands of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A commit need not wait for the disk: a test database is thrown away, never recovered.
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.postgresql":
        options = database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
        # Migrating the template grants the runtime role its privileges (tests/database.py).
        from tests.database import RUNTIME_ROLE

        settings.DATABASE_RUNTIME_ROLE = RUNTIME_ROLE
    # The live server writes a response's headers and its body in two small sends; with
    # Nagle's algorithm on, the second waits for the client's delayed ACK of the first (40 ms on
    # Linux loopback), which made every call to the live server cost 40 ms more.
    from django.core.servers.basehttp import WSGIRequestHandler

    WSGIRequestHandler.disable_nagle_algorithm = True


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's, but a run after the first copies a migrated template (tests/database.py)
    instead of migrating, unless `--create-db` asks for a fresh one."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from tests import database

    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        database.make_roles()
        name = connection.creation._get_test_db_name()
        template = database.template_name(name)
        with database.one_worker_at_a_time(template, wait=not django_db_createdb):
            copied = (
                not django_db_createdb
                and database.template_exists(template)
                and database.copy_template(template, name)
            )
            databases = setup_databases(
                verbosity=verbosity, interactive=False, keepdb=copied, serialized_aliases=set()
            )
            if not copied:
                database.keep_as_template(name, template)
    yield
    with django_db_blocker.unblock():
        database.end_other_sessions(name)
        teardown_databases(databases, verbosity=verbosity)


def refuse_shared_rows_beside_commits(items: list[pytest.Item]) -> None:
    """Rows shared by a module's tests (`tests.database.made_once_for_many_tests`) live in a
    transaction that stays open between them, at the suite's instant: a test of that module
    that commits, or that runs at other instants, would meet them half made or from another
    time, so such a module is refused at once rather than failing now and then."""
    by_module: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_module.setdefault(item.nodeid.split("::")[0], []).append(item)
    for module, module_items in by_module.items():
        if not any(
            name.endswith("_for_the_module")
            for item in module_items
            for name in getattr(item, "fixturenames", ())
        ):
            continue
        for item in module_items:
            names = set(getattr(item, "fixturenames", ()))
            marker = item.get_closest_marker("django_db")
            if (
                names & {"transactional_db", "live_server", "migration_data"}
                or (marker is not None and marker.kwargs.get("transaction"))
                or item.get_closest_marker("any_instant")
            ):
                raise pytest.UsageError(
                    f"{item.nodeid} commits or runs at several instants, but {module} shares "
                    "rows made once between its tests; give it rows of its own."
                )


# Modules with the longest tests (tens of seconds each), longest first. xdist hands tests out
# in the order collected, a batch at a time: one of these left to the end keeps the suite
# waiting on one worker while the others idle, so they start first, dealt round the workers.
# (pytest-django's order, transactional tests after the rest, is kept among the others; a
# transactional test's flush is put right after it, see `pytest_runtest_teardown`.)
STARTED_FIRST = (
    "tests/test_api_contract.py",
    "tests/test_benches_run.py",
    "tests/security/test_authorisation.py",
    "tests/enquiries/test_demo.py",
    "tests/browser/",
    "tests/test_migrations.py",
    "tests/audit/test_append_only.py",
    "tests/test_demo_background.py",
    "tests/resilience/test_worker.py",
    "tests/resilience/test_timing.py",
    "tests/sharing/test_demo.py",
    "tests/agencies/test_seed_demo.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """After pytest-django has ordered the tests: the longest first (`STARTED_FIRST`), and no
    module both sharing rows and committing."""
    refuse_shared_rows_beside_commits(items)

    def order(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        return next(
            (place for place, start in enumerate(STARTED_FIRST) if path.startswith(start)),
            len(STARTED_FIRST),
        )

    items.sort(key=order)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `any_instant` runs at the suite's instant and at each hostile one, unless
    it names its own with `instant`."""
    definition = metafunc.definition
    if definition.get_closest_marker("any_instant") and not definition.get_closest_marker(
        "instant"
    ):
        metafunc.parametrize(
            "_fixed_instant",
            [None, *instants.HOSTILE.values()],
            ids=["usual-instant", *instants.HOSTILE],
            indirect=True,
        )


@pytest.fixture(autouse=True)
def _fixed_instant(request, monkeypatch):
    """Every test starts at a fixed instant, its clock ticking from there (tests/instants.py),
    so none depends on the hour the suite happens to run: its own if it is marked
    `instant("2026-03-30T12:00")` (hub time), else the suite's. Child processes started
    through `tests.at_instant` share it."""
    own = request.node.get_closest_marker("instant")
    if own:
        instant = instants.parse(own.args[0])
    elif param := getattr(request, "param", None):
        instant = param.astimezone(instants.UTC)
    else:
        instant = instants.session_instant()
    with time_machine.travel(instant, tick=True):
        time.time()  # a travelling clock starts ticking when first read: now, not later
        offset = instant.timestamp() - time_machine.escape_hatch.time.time()
        monkeypatch.setenv(instants.OFFSET_VARIABLE, repr(offset))
        yield instant


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
def _lockout_counts_of_its_own(monkeypatch):
    """The lockout counts in the shared Redis (agencies.lockout): each test under keys of its
    own, so that usernames and addresses that recur across tests, runs and xdist workers (the
    test client's 127.0.0.1) never find another test's failures."""
    import uuid

    from agencies import lockout

    monkeypatch.setattr(lockout, "KEY_PREFIX", f"lockout-test-{uuid.uuid4().hex}")


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
    ("enquiries.migrations.0011_outcome_fits", "set_fits_of_default_outcomes"),
]


def restore_migration_data() -> None:
    """Put the data migrations' rows back (role groups, the default hub clock, the reference
    lists) by running the same migration code, and give the roles their permissions as
    `migrate` does (agencies.roles). Each step only adds what is missing. As at `migrate`, the
    change log does not record them: a test after this one reads only its own changes."""
    from auditlog.context import disable_auditlog
    from django.apps import apps

    from agencies.roles import sync_role_permissions

    # A data migration may mark apps as having models for a moment (0002 does, to make
    # permissions early): on the project's own apps that must not outlive the call, or
    # `migrate` would send post_migrate to none of them.
    models_modules = {config: config.models_module for config in apps.get_app_configs()}
    with disable_auditlog():
        for module, function in DATA_MIGRATIONS:
            getattr(importlib.import_module(module), function)(apps, None)
        for config, models_module in models_modules.items():
            config.models_module = models_module
        sync_role_permissions()


@pytest.fixture
def migration_data(transactional_db) -> None:
    """Transactional tests end with a flush that empties the data migrations' tables; this puts
    their rows back before the test (an earlier one on this worker may have flushed them)."""
    restore_migration_data()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After a transactional test's flush, the data migrations' rows go back at once: the
    tests xdist sends this worker next may be ordinary ones, which expect them (with more
    tests than workers, they are no longer all sent before the transactional ones)."""
    yield
    names = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    flushed = names & {"transactional_db", "live_server"} or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if nextitem is None or not flushed:
        return
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        restore_migration_data()


@pytest.fixture
def pictures_not_typeset(monkeypatch):
    """Onward referrals' pictures still compiled and logged, but not typeset: WeasyPrint is
    most of `seed_demo`'s time, and the demo's tests read no PDF. The picture's own tests
    (tests/sharing/test_picture*.py) and the benches (tests/test_benches_run.py) typeset."""
    from sharing import picture

    monkeypatch.setattr(picture, "render_pdf", lambda compiled: b"%PDF-1.7 not typeset")


@pytest.fixture
def agency(db):
    return AgencyFactory(name="Police", kind="police")


@pytest.fixture
def make_user(db):
    """A person in an agency with the given roles: make_user("researcher", agency=...)."""

    def make(*roles: str, **fields):
        return UserFactory(roles=roles, **fields)

    return make
