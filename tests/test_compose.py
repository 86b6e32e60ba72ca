"""docker-compose.yml is read, not run (no Docker engine here): its shape is checked instead."""

import re
import runpy
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ["web", "worker", "worker-mail", "worker-long", "beat"]
WORKERS = ["worker", "worker-mail", "worker-long"]
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
    assert set(compose["services"]) == {
        "db",
        "redis",
        "migrate",
        "web",
        "proxy",
        "worker",
        "worker-mail",
        "worker-long",
        "beat",
    }


def test_the_database_is_postgresql_16_and_redis_is_redis(compose):
    assert compose["services"]["db"]["image"] == "postgres:16"
    assert compose["services"]["redis"]["image"].startswith("redis:")


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name != "migrate":  # one-shot: it exits once the migrations are applied
            assert service["healthcheck"]["test"], name


def test_web_is_healthy_while_the_database_answers_whatever_the_background_does(compose):
    """A load balancer's view: a web node out of service for a late beat or Redis down would
    stop every page, although pages and saves keep working (docs/operations.md)."""
    test = " ".join(compose["services"]["web"]["healthcheck"]["test"])

    assert "http://127.0.0.1:8000/healthz/ready'" in test
    assert "/healthz'" not in test and "/healthz/background" not in test


def test_the_app_services_run_gunicorn_a_worker_and_beat(compose):
    services = compose["services"]
    web = services["web"]["command"]
    assert web == ["gunicorn", "--config", "deploy/gunicorn.conf.py", "mash.wsgi"]
    for worker in WORKERS:
        assert services[worker]["command"][:4] == ["celery", "-A", "mash", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "mash", "beat"]


def queues_of(command: list[str]) -> set[str]:
    return set(command[command.index("--queues") + 1].split(","))


def test_each_queue_has_a_worker_of_its_own_and_the_clocks_shares_with_none(compose):
    """A long job or a slow mail relay never holds up the SLA scan (mash.settings)."""
    from django.conf import settings

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    consumed = {name: queues_of(compose["services"][name]["command"]) for name in WORKERS}

    assert consumed == {"worker": {"clock"}, "worker-mail": {"mail"}, "worker-long": {"long"}}
    assert set().union(*consumed.values()) == routed


def test_the_demos_one_worker_takes_every_queue():
    from django.conf import settings

    from demo import serve

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert queues_of(serve.WORKER) == routed


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


# The proxy in front of gunicorn (docs/operations.md "The proxy and gunicorn")

NGINX_SITE = ROOT / "deploy" / "nginx" / "mash.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def nginx_directives() -> dict[str, list[str]]:
    """Each directive of the site, by name, with the value of each time it appears."""
    found: dict[str, list[str]] = {}
    for line in NGINX_SITE.read_text().splitlines():
        directive = re.match(r"\s*([a-z_]+)\s+([^;{#]*?)\s*;", line)
        if directive:
            found.setdefault(directive[1], []).append(directive[2])
    return found


def size_in_bytes(size: str) -> int:
    units = {"k": 1024, "m": 1024 * 1024}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


def test_only_the_proxy_publishes_a_port_and_it_waits_for_a_healthy_web(compose):
    services = compose["services"]
    proxy = services["proxy"]

    assert [name for name, service in services.items() if "ports" in service] == ["proxy"]
    assert proxy["ports"] == ["8000:8000"]
    assert proxy["image"].startswith("nginx:1.27")
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert "proxy-healthz" in " ".join(proxy["healthcheck"]["test"])
    assert services["web"]["expose"] == ["8000"]


def test_the_proxy_reads_its_site_read_only_and_spills_to_memory_not_disk(compose):
    volumes = compose["services"]["proxy"]["volumes"]
    mounted = dict(v.split(":", 1) for v in volumes if isinstance(v, str))
    tmpfs = [v for v in volumes if isinstance(v, dict) and v["type"] == "tmpfs"]

    assert mounted == {"./deploy/nginx/mash.conf": "/etc/nginx/conf.d/default.conf:ro"}
    assert [v["target"] for v in tmpfs] == ["/var/cache/nginx"]


def test_the_proxy_buffers_whole_requests_and_answers_and_times_out_slow_clients():
    nginx = nginx_directives()

    assert nginx["proxy_request_buffering"] == ["on"]
    assert nginx["proxy_buffering"] == ["on"]
    for timeout in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert nginx[timeout] == ["10s"], timeout
    assert nginx["keepalive_timeout"] == ["15s"]
    assert nginx["reset_timedout_connection"] == ["on"]


def test_the_proxys_body_limit_leaves_the_app_to_refuse_what_is_over_its_own(compose):
    """A body a little over DATA_UPLOAD_MAX_MEMORY_SIZE gets the app's 413, in its words; the
    proxy refuses only what is far larger, and keeps every body it takes in memory."""
    default = compose["services"]["web"]["environment"]["DATA_UPLOAD_MAX_MEMORY_SIZE"]
    app_limit = int(re.fullmatch(r"\$\{DATA_UPLOAD_MAX_MEMORY_SIZE:-(\d+)\}", default)[1])
    nginx = nginx_directives()
    proxy_limit = size_in_bytes(nginx["client_max_body_size"][0])

    assert app_limit < proxy_limit <= 2 * app_limit
    assert size_in_bytes(nginx["client_body_buffer_size"][0]) == proxy_limit


def test_the_proxy_forwards_the_client_to_a_web_that_trusts_one_proxy(compose):
    nginx = nginx_directives()
    forwarded = dict(value.split(None, 1) for value in nginx["proxy_set_header"])
    environment = compose["services"]["web"]["environment"]

    assert nginx["server"] == ["web:8000"]  # the upstream: web's port, gunicorn's bind
    assert nginx["proxy_pass"] == ["http://mash_web"]
    assert forwarded["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert forwarded["X-Forwarded-Proto"] == "$mash_forwarded_proto"
    assert forwarded["X-Request-ID"] == "$request_id"
    assert forwarded["Host"] == "$host"
    assert environment["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"
    assert nginx["listen"] == ["8000"]


def test_nginx_reads_the_site_without_a_complaint(tmp_path):
    """`nginx -t` on the site, its addresses moved to loopback (tests/nginx.py); Debian's
    nginx, which `make test` installs (tools/preflight.py)."""
    from tests import nginx

    binary = nginx.nginx_or_skip()
    main = nginx.configure(tmp_path, upstream_port=nginx.free_port(), port=nginx.free_port())

    checked = nginx.check(binary, main)

    assert checked.returncode == 0, checked.stderr
    assert "[warn]" not in checked.stderr and "[emerg]" not in checked.stderr


def test_gunicorn_runs_threads_with_bounded_times_and_workers_from_the_environment(monkeypatch):
    for name in ("WORKERS", "THREADS", "TIMEOUT", "GRACEFUL_TIMEOUT"):
        monkeypatch.delenv(f"GUNICORN_{name}", raising=False)
    default = runpy.run_path(str(GUNICORN_CONF))
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    monkeypatch.setenv("GUNICORN_THREADS", "8")

    configured = runpy.run_path(str(GUNICORN_CONF))

    assert default["worker_class"] == "gthread"
    assert (default["workers"], default["threads"]) == (3, 4)
    assert (default["timeout"], default["graceful_timeout"], default["keepalive"]) == (30, 30, 5)
    assert default["bind"] == "0.0.0.0:8000"
    assert (configured["workers"], configured["threads"]) == (5, 8)


def test_the_compose_file_and_the_image_both_start_gunicorn_with_its_settings(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = re.search(r"^CMD (.*)$", dockerfile, re.M)[1]
    environment = compose["services"]["web"]["environment"]

    assert yaml.safe_load(command) == compose["services"]["web"]["command"]
    assert "COPY deploy/gunicorn.conf.py ./deploy/" in dockerfile
    for variable in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT"):
        assert variable in environment
        assert variable in GUNICORN_CONF.read_text()
