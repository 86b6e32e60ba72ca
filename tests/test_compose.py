"""docker-compose.yml is read, not run (no Docker engine here): its shape is checked instead."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ["web", "worker", "beat"]
# The database's roles (docs/operations.md "Database roles", deploy/postgres/roles.sh).
OWNER_ROLE, RUNTIME_ROLE = "mash_owner", "mash_app"
# What production cannot start without (DEBUG off): the rest have safe defaults.
REQUIRED_IN_PRODUCTION = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "DEBUG"}


def settings_variables() -> list[str]:
    """Every environment variable mash/settings.py reads, from its source."""
    source = (ROOT / "mash" / "settings.py").read_text()
    return sorted(set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', source)))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_has_the_services_of_the_production_shape(compose):
    assert set(compose["services"]) == {"db", "redis", "migrate", "web", "worker", "beat"}


def test_the_database_is_postgresql_16_and_redis_is_redis(compose):
    assert compose["services"]["db"]["image"] == "postgres:16"
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name != "migrate":  # one-shot: it exits once the migrations are applied
            assert service["healthcheck"]["test"], name


def test_the_app_services_run_gunicorn_a_worker_and_beat(compose):
    services = compose["services"]
    web = " ".join(services["web"]["command"])
    assert "gunicorn mash.wsgi" in web
    assert "migrate" not in web
    assert services["worker"]["command"][:4] == ["celery", "-A", "mash", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "mash", "beat"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_db_and_redis_and_the_migrations(compose, name):
    depends = compose["services"][name]["depends_on"]

    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_every_variable_production_needs(compose, name):
    environment = compose["services"][name]["environment"]

    assert REQUIRED_IN_PRODUCTION <= set(environment)
    assert set(settings_variables()) - {"STATIC_ROOT"} <= set(environment)
    assert environment["DEBUG"] == "false"
    assert environment["DATABASE_URL"].startswith(f"postgres://{RUNTIME_ROLE}:")
    assert environment["DATABASE_URL"].endswith("@db:5432/mash")
    assert environment["DATABASE_RUNTIME_ROLE"] == RUNTIME_ROLE
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


def test_the_migrations_run_once_as_the_owner_granting_the_runtime_role(compose):
    migrate = compose["services"]["migrate"]
    environment = migrate["environment"]

    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert environment["DATABASE_URL"].startswith(f"postgres://{OWNER_ROLE}:")
    assert environment["DATABASE_URL"].endswith("@db:5432/mash")
    assert environment["DATABASE_RUNTIME_ROLE"] == RUNTIME_ROLE
    # Everything else as the app services have it.
    web = compose["services"]["web"]["environment"]
    assert {**environment, "DATABASE_URL": web["DATABASE_URL"]} == web


def test_the_database_makes_both_roles_as_it_first_starts(compose):
    db = compose["services"]["db"]
    mounted = dict(volume.split(":", 1) for volume in db["volumes"])
    script = ROOT / "deploy" / "postgres" / "roles.sh"

    assert mounted["./deploy/postgres/roles.sh"].startswith("/docker-entrypoint-initdb.d/")
    assert mounted["./deploy/postgres/roles.sh"].endswith(".sh:ro")
    assert script.stat().st_mode & 0o111  # run, not sourced, by the image's entrypoint
    text = script.read_text()
    assert f"CREATE ROLE {OWNER_ROLE}" in text
    assert f"CREATE ROLE {RUNTIME_ROLE}" in text
    assert f'ALTER DATABASE :"database" OWNER TO {OWNER_ROLE}' in text
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in text
    for role in (OWNER_ROLE, RUNTIME_ROLE):
        attributes = re.search(rf"ALTER ROLE {role} ([^;]*);", text)[1].split()
        assert {"LOGIN", "NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE"} <= set(attributes)
    # Its passwords come from the environment, as the app's URLs do.
    assert {"MASH_OWNER_PASSWORD", "MASH_APP_PASSWORD"} <= set(db["environment"])
    assert db["environment"]["POSTGRES_USER"] not in (OWNER_ROLE, RUNTIME_ROLE)


def test_the_secret_key_must_be_supplied_not_defaulted(compose):
    secret = compose["services"]["web"]["environment"]["SECRET_KEY"]

    assert secret.startswith("${SECRET_KEY:?")


def test_the_required_variables_are_really_read_by_the_settings():
    assert REQUIRED_IN_PRODUCTION <= set(settings_variables())


def test_the_image_serves_gunicorn_and_collects_static_files():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "collectstatic" in dockerfile
    assert "gunicorn" in dockerfile
    assert "npm ci" in dockerfile


def test_the_image_holds_every_layer_of_the_project():
    """A package the Dockerfile forgets to copy fails only in production, at import."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        layers = tomllib.load(file)["tool"]["importlinter"]["root_packages"]
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))

    assert set(layers) <= copied


def test_the_image_has_what_weasyprint_draws_the_picture_with():
    """The PDF libraries `make test` installs (tools/preflight.py) are the image's too, in the
    runtime stage, leaving no package lists behind."""
    from tools.preflight import PDF_PACKAGES

    runtime = (ROOT / "Dockerfile").read_text().split("FROM python:")[1]
    install = re.search(r"RUN apt-get update(.*?)(?<!\\)\n", runtime, re.S)

    assert install is not None
    assert "--no-install-recommends" in install.group(1)
    assert "rm -rf /var/lib/apt/lists/*" in install.group(1)
    assert set(PDF_PACKAGES) <= set(install.group(1).split())
