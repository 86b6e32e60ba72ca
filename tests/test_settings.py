"""Settings come from the environment; a missing required one stops start-up with its name."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_compose import settings_variables

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "broker_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "results": getattr(settings, "CELERY_RESULT_BACKEND", None),
    "beat_schedule": getattr(settings, "CELERY_BEAT_SCHEDULE_FILENAME", None),
    "eager": getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False),
    "sqlite_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "time_zone": settings.TIME_ZONE,
    "use_tz": settings.USE_TZ,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "user_model": settings.AUTH_USER_MODEL,
}))
"""


def run_with(env: dict[str, str], code: str = PROBE) -> subprocess.CompletedProcess:
    """Start a fresh interpreter with exactly these mash variables, as a deployment would."""
    base = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "DATABASE_REPLICA_URL",
            "REDIS_URL",
            "ALLOWED_HOSTS",
        }
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "mash.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def probe(env: dict[str, str]) -> dict:
    result = run_with(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_debug_a_missing_secret_key_stops_start_up_with_one_line_naming_it():
    result = run_with({"DEBUG": "false"})

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SECRET_KEY" in lines[0]


def test_manage_py_fails_the_same_way():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env={k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "mash: configuration error: SECRET_KEY is not set; "
        "set it, or set DEBUG=true for a local demo."
    ]


def test_with_debug_on_the_demo_needs_no_variables_at_all():
    settings = probe({"DEBUG": "true"})

    assert settings["debug"] is True
    assert settings["engine"] == "django.db.backends.sqlite3"
    assert settings["name"] == str(ROOT / "var" / "mash.sqlite3")
    assert settings["cache"].endswith("LocMemCache")


def test_without_redis_the_broker_is_a_folder_beside_the_sqlite_database(tmp_path):
    settings = probe({"DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"})

    assert settings["eager"] is False
    assert settings["broker"].startswith("filesystem://")
    options = settings["broker_options"]
    queue = str(tmp_path / "celery" / "queue")
    assert options["data_folder_in"] == options["data_folder_out"] == queue
    assert options["processed_folder"] == str(tmp_path / "celery" / "processed")
    assert options["store_processed"] is True
    assert all(Path(options[name]).is_dir() for name in ("processed_folder", "control_folder"))
    assert Path(queue).is_dir()
    assert settings["beat_schedule"] == str(tmp_path / "celery" / "beat-schedule")
    assert settings["results"] is None
    # Server, worker and beat write to one SQLite file at once.
    assert settings["sqlite_options"] == {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }


def test_database_url_and_redis_url_switch_to_postgresql_and_redis():
    settings = probe(
        {
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/elsewhere",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        }
    )

    assert settings["debug"] is False
    assert settings["engine"] == "django.db.backends.postgresql"
    assert settings["name"] == "elsewhere"
    assert settings["eager"] is False
    assert settings["broker"] == settings["results"] == "redis://127.0.0.1:6379/3"
    assert "data_folder_in" not in settings["broker_options"]
    assert settings["beat_schedule"] is None
    assert settings["cache"].endswith("RedisCache")


def test_time_is_london_and_aware_and_hosts_come_from_the_environment():
    settings = probe({"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "mash.example.org,10.0.0.5"})

    assert settings["time_zone"] == "Europe/London"
    assert settings["use_tz"] is True
    assert settings["allowed_hosts"] == ["mash.example.org", "10.0.0.5"]
    assert settings["user_model"] == "agencies.User"


def test_an_unusable_database_url_fails_fast_with_its_name():
    result = run_with({"DEBUG": "true", "DATABASE_URL": "nosuchdb://somewhere/x"})

    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nosuchdb" in result.stderr


def test_every_variable_the_settings_read_is_documented_in_operations():
    text = (ROOT / "docs" / "operations.md").read_text()
    missing = [v for v in settings_variables() if v not in text]

    assert missing == []


REPLICA_PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "aliases": sorted(settings.DATABASES),
    "routers": getattr(settings, "DATABASE_ROUTERS", []),
    "replica": {
        key: settings.DATABASES["replica"][key] for key in ("NAME", "HOST", "TEST")
    } if "replica" in settings.DATABASES else None,
}))
"""


def test_a_replica_url_adds_the_replica_and_its_router_and_without_it_there_is_neither():
    primary = {"SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://app@primary:5432/mash"}
    without = run_with(primary, REPLICA_PROBE)
    with_replica = run_with(
        {**primary, "DATABASE_REPLICA_URL": "postgres://app@replica:5432/mash"}, REPLICA_PROBE
    )

    assert json.loads(without.stdout) == {"aliases": ["default"], "routers": [], "replica": None}
    assert json.loads(with_replica.stdout) == {
        "aliases": ["default", "replica"],
        "routers": ["mash.db_router.ReplicaRouter"],
        "replica": {"NAME": "mash", "HOST": "replica", "TEST": {"MIRROR": "default"}},
    }


def test_a_replica_that_is_not_postgresql_fails_fast():
    result = run_with(
        {"DEBUG": "true", "DATABASE_REPLICA_URL": "sqlite:///elsewhere.sqlite3"}, REPLICA_PROBE
    )

    assert result.returncode == 1
    assert "DATABASE_REPLICA_URL must start with postgres://" in result.stderr
