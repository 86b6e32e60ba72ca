"""docker-compose.yml is read, not run (no Docker engine here): its shape is checked instead."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ["web", "worker", "beat"]
# What production cannot start without (DEBUG off): the rest have safe defaults.
REQUIRED_IN_PRODUCTION = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "DEBUG"}


def settings_variables() -> list[str]:
    """Every environment variable mash/settings.py reads, from its source."""
    source = (ROOT / "mash" / "settings.py").read_text()
    return sorted(set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', source)))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_has_the_five_services_of_the_production_shape(compose):
    assert set(compose["services"]) == {"db", "redis", "web", "worker", "beat"}


def test_the_database_is_postgresql_16_and_redis_is_redis(compose):
    assert compose["services"]["db"]["image"] == "postgres:16"
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_every_service_but_beat_has_a_health_check_and_beat_has_one_too(compose):
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"], name


def test_the_app_services_run_gunicorn_a_worker_and_beat(compose):
    services = compose["services"]
    web = " ".join(services["web"]["command"])
    assert "gunicorn mash.wsgi" in web
    assert "migrate" in web
    assert services["worker"]["command"][:4] == ["celery", "-A", "mash", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "mash", "beat"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_db_and_redis(compose, name):
    depends = compose["services"][name]["depends_on"]

    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_every_variable_production_needs(compose, name):
    environment = compose["services"][name]["environment"]

    assert REQUIRED_IN_PRODUCTION <= set(environment)
    assert set(settings_variables()) - {"STATIC_ROOT"} <= set(environment)
    assert environment["DEBUG"] == "false"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["DATABASE_URL"].endswith("@db:5432/mash")
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


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
