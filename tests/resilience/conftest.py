"""Faults made for real: Redis stopped (a closed port) or hung (a server that accepts and
never answers), the database connection ended, a worker killed."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from agencies.models import Role
from mash.celery import app


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, username="rosa")


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connecting is refused at once, as with Redis stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A local port that accepts connections and never answers, as a hung Redis does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()


def _forget_broker_connections() -> None:
    """Celery keeps a connection pool per app; the next task sent opens one to the new URL."""
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def redis_at(url: str) -> Iterator[None]:
    """The whole app (cache, broker, /healthz) pointed at `url`, tasks really sent."""
    cache = {**settings.CACHES["default"], "LOCATION": url}
    previous = app.conf.broker_url, app.conf.task_always_eager
    with override_settings(REDIS_URL=url, CACHES={"default": cache, "throttle": cache}):
        app.conf.broker_url, app.conf.task_always_eager = url, False
        _forget_broker_connections()
        try:
            yield
        finally:
            app.conf.broker_url, app.conf.task_always_eager = previous
            _forget_broker_connections()


def terminate_backend(pid: int) -> None:
    """End a backend from a connection of its own, as a PostgreSQL restart would."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    other = psycopg2.connect(**params)
    try:
        other.autocommit = True
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0], f"backend {pid} was not running"
    finally:
        other.close()


def backend_pid() -> int | None:
    """The PostgreSQL backend of this thread's open connection, without a query."""
    if connection.connection is None:
        return None
    return connection.connection.get_backend_pid()
