"""Checks that PostgreSQL and Redis answer before the test suite starts.

Run as `python -m mash.preflight`. Reads DATABASE_URL and REDIS_URL like the settings do and
stops with one line per missing service, saying how to start it, instead of a stack trace
from deep inside the first test.
"""

import os
import socket
import sys
from urllib.parse import urlsplit

HOW_TO_START = {
    "PostgreSQL": (
        "start it with `sudo service postgresql start` "
        "(Debian without systemd: `pg_ctlcluster --skip-systemctl-redirect 15 main start`)"
    ),
    "Redis": "start it with `redis-server --daemonize yes --port 6379`",
}


def _reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def problems(environ: dict[str, str]) -> list[str]:
    found = []
    services = [
        ("PostgreSQL", "DATABASE_URL", 5432, ("postgres", "postgresql", "pgsql")),
        ("Redis", "REDIS_URL", 6379, ("redis", "rediss")),
    ]
    for name, variable, default_port, schemes in services:
        url = environ.get(variable, "")
        parts = urlsplit(url)
        if parts.scheme not in schemes:
            found.append(f"{variable} must be a {name} URL for the tests; it is {url!r}.")
            continue
        host, port = parts.hostname or "127.0.0.1", parts.port or default_port
        if not _reachable(host, port):
            found.append(
                f"{name} is not reachable at {host}:{port} ({variable}); {HOW_TO_START[name]}."
            )
    return found


def main() -> int:
    found = problems(dict(os.environ))
    for problem in found:
        print(f"mash: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
