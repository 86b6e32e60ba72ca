"""Slow clients cannot starve the server (issue 21, item 3): the production front, run natively
on loopback. nginx with deploy/nginx/mash.conf (from Debian; `make test` installs it) in front
of gunicorn with deploy/gunicorn.conf.py, serving the app against the test database.

gunicorn here has one process of two threads: straight in front of it, two clients sending
their headers a line at a time would hold both threads and every other request would wait
(the issue's finding: four such connections stopped the compose file's three sync workers).
nginx holds such connections itself and hands gunicorn only whole requests."""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.urls import reverse

from tests import nginx, workers

ROOT = Path(__file__).resolve().parents[2]
SLOW_CLIENTS = 40
BODY_LIMIT = 2_621_440  # the app's DATA_UPLOAD_MAX_MEMORY_SIZE


@dataclass
class Front:
    port: int  # nginx's


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def get(port: int, path: str, timeout: float = 5) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def wait_until_answering(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"it stopped at start:\n{log.read_text()[-3000:]}")
        try:
            get(port, "/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on port {port} in 60 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def front(tmp_path_factory, django_db_setup) -> Iterator[Front]:
    """nginx in front of gunicorn, started once for the module's tests (in 2 s, mostly the
    app's start), against the test database; neither writes to it."""
    binary = nginx.nginx_or_skip()
    tmp_path = tmp_path_factory.mktemp("front")
    gunicorn_port, port = nginx.free_port(), nginx.free_port()
    log = tmp_path / "gunicorn.log"
    gunicorn = subprocess.Popen(
        # On the real clock: nothing it answers here depends on the hour.
        [sys.executable, "-m", "gunicorn"]
        + ["--config", "deploy/gunicorn.conf.py", "mash.wsgi"]
        + ["--bind", f"127.0.0.1:{gunicorn_port}", "--error-logfile", str(log)]
        + ["--access-logfile", "/dev/null", "--capture-output"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mash.settings",
            "DATABASE_URL": workers.test_database_url(),
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "TRUSTED_PROXY_COUNT": "1",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": "2",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = None
    try:
        wait_until_answering(gunicorn_port, gunicorn, log)
        main = nginx.configure(tmp_path, upstream_port=gunicorn_port, port=port)
        proxy = nginx.start(binary, main)
        wait_until_answering(port, proxy, tmp_path / "error.log")
        yield Front(port=port)
    finally:
        if proxy is not None:
            stop(proxy)
        stop(gunicorn)


class SlowClients:
    """Connections that send a request a little at a time and never finish it: half stop in
    their headers, half in a body they said would be 100 kB. Every half second each sends
    one more line or byte, as a slowloris does, so no idle timeout closes it."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets = []
        for n in range(count):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            if n % 2:
                connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:
                connection.sendall(
                    b"POST /api/v1/enquiries/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
                )
            self.sockets.append(connection)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._dribble, daemon=True)
        self.thread.start()

    def _dribble(self) -> None:
        while not self.stopping.wait(0.5):
            for n, connection in enumerate(self.sockets):
                try:
                    connection.sendall(b"X-Slow: 1\r\n" if n % 2 else b" ")
                except OSError:
                    pass  # closed by the server: the test below says so

    def stop(self) -> int:
        """Stops sending; returns how many are still open with no answer (nginx neither
        answered nor closed them)."""
        self.stopping.set()
        self.thread.join(timeout=5)
        waiting = 0
        for connection in self.sockets:
            connection.setblocking(False)
            try:
                connection.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                waiting += 1
        return waiting

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        for connection in self.sockets:
            connection.close()


@pytest.mark.proxy
def test_forty_slow_clients_do_not_stop_a_normal_request_answering_within_a_second(front):
    slow = SlowClients(front.port, SLOW_CLIENTS)
    try:
        time.sleep(1.5)  # three rounds of dribbling: every slow request is well under way
        timings, answers = [], []
        for _ in range(5):
            started = time.perf_counter()
            response, body = get(front.port, "/healthz")
            timings.append(time.perf_counter() - started)
            answers.append((response, body))
        waiting = slow.stop()
    finally:
        slow.close()

    print(f"/healthz through nginx with {SLOW_CLIENTS} slow clients: {max(timings):.3f} s at most")
    assert max(timings) < 1.0, timings
    assert waiting == SLOW_CLIENTS  # held by nginx all along, not dropped to make room
    for response, body in answers:
        assert response.status in (200, 503)  # 503 only for a late beat: the app answered
        assert json.loads(body)["database"] == "ok"
        assert response.getheader("Server") == "nginx"  # its name replaces gunicorn's


@pytest.mark.proxy
def test_the_proxy_names_each_request_for_the_app(front):
    response, _ = get(front.port, reverse("api:outcome-list"))

    assert response.status == 401
    assert response.getheader("Server") == "nginx"
    # nginx's $request_id, which the app takes from a proxy it trusts (TRUSTED_PROXY_COUNT).
    assert re.fullmatch(r"[0-9a-f]{32}", response.getheader("X-Request-ID"))


def raw_answer(port: int, request: bytes, *, ends: bytes = b"") -> bytes:
    """The answer to `request`, read until the server closes the connection or it `ends` so
    (nginx keeps a connection whose body it refused open a while, lest the client miss why)."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        while chunk := connection.recv(65536):
            answer += chunk
            if ends and answer.rstrip().endswith(ends):
                break
    return answer


@pytest.mark.proxy
def test_the_proxy_lets_the_app_refuse_a_body_over_its_limit_and_refuses_far_larger(front):
    just_over = b"x" * (BODY_LIMIT + 1)
    headers = (
        "POST /api/v1/enquiries/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n"
    )

    by_the_app = raw_answer(front.port, headers.format(len(just_over)).encode() + just_over)
    by_nginx = raw_answer(front.port, headers.format(4 * BODY_LIMIT).encode(), ends=b"</html>")

    head, _, body = by_the_app.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(body)["detail"].startswith("That was too much to send at once")
    assert by_nginx.startswith(b"HTTP/1.1 413 ")
    assert b"nginx" in by_nginx  # its own page: the body was never read, nor sent on
