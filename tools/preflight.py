"""What `make test` needs from the machine, checked in its first seconds, before anything slow.

Run as `python3 tools/preflight.py` with any Python: it uses the standard library only, so it
runs before the virtualenv exists. It checks Python, venv, npm, PostgreSQL and Redis (read
from DATABASE_URL and REDIS_URL like the settings do), PostgreSQL's pg_dump and pg_restore for
the backup test, Chromium for the browser tests and nginx
for the test of the proxy in front of gunicorn (tests/resilience/test_slow_clients.py).
Chromium, nginx, and the libraries WeasyPrint draws the picture's PDF with (Pango, HarfBuzz's
subsetter and the DejaVu fonts, as the Dockerfile installs them), it installs from Debian's
packages where it can (as root, with apt-get), saying so first; anything else missing stops it
at once with one line per problem saying what to run, rather than a stack trace minutes later
from deep inside the first test that needs it.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

HOW_TO_START = {
    "PostgreSQL": (
        "start it with `sudo service postgresql start` "
        "(Debian without systemd: `pg_ctlcluster --skip-systemctl-redirect 15 main start`)"
    ),
    "Redis": "start it with `redis-server --daemonize yes --port 6379`",
}
CHROMIUM_NAMES = ("chromium", "chromium-browser")
INSTALL_CHROMIUM = ["apt-get", "install", "-y", "-qq", "chromium"]
# The proxy compose puts in front of gunicorn (deploy/nginx/), run natively by a test. Debian
# puts it in /usr/sbin, which is not on everyone's PATH.
NGINX_PLACES = ("/usr/sbin/nginx",)
INSTALL_NGINX = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"]
# What WeasyPrint needs from the system to draw the picture's PDF (sharing.picture), as
# Debian packages, each with how to tell it is there: a library `ctypes` finds, or a file. The
# Dockerfile installs the same packages.
PDF_PACKAGES: dict[str, tuple[str, str]] = {
    "libpango-1.0-0": ("library", "pango-1.0"),
    "libpangoft2-1.0-0": ("library", "pangoft2-1.0"),
    "libharfbuzz-subset0": ("library", "harfbuzz-subset"),
    "fonts-dejavu-core": ("file", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
}


def _reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def problems(environ: dict[str, str]) -> list[str]:
    """PostgreSQL and Redis: each must be named by its URL and answer on its port."""
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


BACKUP_TOOLS = ("pg_dump", "pg_restore")


def backup_tools_problems(which: Callable[[str], str | None]) -> list[str]:
    """PostgreSQL's own backup and restore, which the backup test runs as an operator would
    (tests/audit/test_backup_restore.py): shipped with the server, or alone in Debian's
    postgresql-client."""
    missing = [tool for tool in BACKUP_TOOLS if not which(tool)]
    if not missing:
        return []
    return [
        f"PostgreSQL's {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing "
        "(the backup test runs them): install them with `apt-get install postgresql-client`."
    ]


def toolchain_problems(*, version: tuple[int, int], has_venv: bool, has_npm: bool) -> list[str]:
    found = []
    if version < (3, 11):
        found.append(
            f"mash needs Python 3.11 or newer; this is {version[0]}.{version[1]} "
            "(run `make test PYTHON=python3.11`, or install a newer Python)."
        )
    if not has_venv:
        found.append(
            "Python cannot make a virtualenv here: install it with `apt-get install python3-venv`."
        )
    if not has_npm:
        found.append(
            "npm is missing (the GOV.UK Design System is built with it): install Node.js 20 or "
            "newer with npm, e.g. `apt-get install nodejs npm`."
        )
    return found


@dataclass(frozen=True)
class ProgramPlan:
    """What to do about a program the tests run: the browser they drive, nginx."""

    found: str | None  # its path, when it is there
    install: bool  # missing, and this user can install Debian's package
    problem: str | None  # missing, and only someone else can install it


def chromium_plan(
    *, which: Callable[[str], str | None], is_root: bool, has_apt: bool
) -> ProgramPlan:
    for name in CHROMIUM_NAMES:
        if path := which(name):
            return ProgramPlan(found=path, install=False, problem=None)
    if is_root and has_apt:
        return ProgramPlan(found=None, install=True, problem=None)
    return ProgramPlan(
        found=None,
        install=False,
        problem=(
            "Chromium is missing for the browser tests: install Debian's package with "
            "`sudo apt-get install chromium`, then run `make test` again."
        ),
    )


def _apt_install(
    command: list[str], what: str, run: Callable[..., subprocess.CompletedProcess]
) -> str:
    """Runs `apt-get update`, then `command`; returns a problem line if either failed, else ''."""
    quiet = {"env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, "check": False}
    for step in (["apt-get", "update", "-qq"], command):
        done = run(step, capture_output=True, text=True, **quiet)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            by_hand = " ".join(part for part in command if part not in ("-y", "-qq"))
            return (
                f"`{' '.join(step)}` failed ({said[-1] if said else f'exit {done.returncode}'}); "
                f"install {what} with `{by_hand}` and run `make test` again."
            )
    return ""


def install_chromium(run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> str:
    """Installs Debian's chromium; returns a problem line if that failed, else ''."""
    return _apt_install(INSTALL_CHROMIUM, "Chromium", run)


def find_nginx(
    which: Callable[[str], str | None] = shutil.which,
    exists: Callable[[str], bool] = os.path.exists,
) -> str | None:
    """nginx's path, on PATH or where Debian puts it; None if it is not there."""
    return which("nginx") or next((place for place in NGINX_PLACES if exists(place)), None)


def nginx_plan(*, found: str | None, is_root: bool, has_apt: bool) -> ProgramPlan:
    if found:
        return ProgramPlan(found=found, install=False, problem=None)
    if is_root and has_apt:
        return ProgramPlan(found=None, install=True, problem=None)
    return ProgramPlan(
        found=None,
        install=False,
        problem=(
            "nginx is missing for the test of the proxy in front of gunicorn: install Debian's "
            "package with `sudo apt-get install nginx`, then run `make test` again."
        ),
    )


def install_nginx(run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> str:
    """Installs Debian's nginx (without recommends); returns a problem line if that failed."""
    return _apt_install(INSTALL_NGINX, "nginx", run)


@dataclass(frozen=True)
class PdfLibrariesPlan:
    """What to do about the libraries WeasyPrint draws PDFs with."""

    missing: tuple[str, ...]  # the Debian packages not there
    install: bool  # some are missing, and this user can install them
    problem: str | None  # some are missing, and only someone else can install them


def pdf_libraries_plan(
    *,
    find_library: Callable[[str], str | None],
    exists: Callable[[str], bool],
    is_root: bool,
    has_apt: bool,
) -> PdfLibrariesPlan:
    missing = tuple(
        package
        for package, (kind, name) in PDF_PACKAGES.items()
        if not (find_library(name) if kind == "library" else exists(name))
    )
    if not missing:
        return PdfLibrariesPlan(missing=(), install=False, problem=None)
    if is_root and has_apt:
        return PdfLibrariesPlan(missing=missing, install=True, problem=None)
    return PdfLibrariesPlan(
        missing=missing,
        install=False,
        problem=(
            "The libraries the picture's PDF is drawn with are missing: install them with "
            f"`sudo apt-get install {' '.join(missing)}`, then run `make test` again."
        ),
    )


def install_pdf_libraries(
    missing: tuple[str, ...], run: Callable[..., subprocess.CompletedProcess] = subprocess.run
) -> str:
    """Installs the missing packages; returns a problem line if that failed, else ''."""
    command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    return _apt_install(command, "the PDF libraries", run)


def _version(path: str) -> str:
    """What the browser just installed says it is."""
    command = [path, "--version"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return path
    return done.stdout.strip() or path


def main() -> int:
    found = toolchain_problems(
        version=sys.version_info[:2],
        has_venv=_has_venv(),
        has_npm=shutil.which("npm") is not None,
    )
    found += problems(dict(os.environ))
    found += backup_tools_problems(shutil.which)
    chromium = chromium_plan(
        which=shutil.which,
        is_root=hasattr(os, "geteuid") and os.geteuid() == 0,
        has_apt=shutil.which("apt-get") is not None,
    )
    if chromium.problem:
        found.append(chromium.problem)
    pdf_libraries = pdf_libraries_plan(
        find_library=ctypes.util.find_library,
        exists=os.path.exists,
        is_root=hasattr(os, "geteuid") and os.geteuid() == 0,
        has_apt=shutil.which("apt-get") is not None,
    )
    if pdf_libraries.problem:
        found.append(pdf_libraries.problem)
    nginx = nginx_plan(
        found=find_nginx(),
        is_root=hasattr(os, "geteuid") and os.geteuid() == 0,
        has_apt=shutil.which("apt-get") is not None,
    )
    if nginx.problem:
        found.append(nginx.problem)
    if found:
        for problem in found:
            print(f"mash: {problem}", file=sys.stderr)
        return 1
    if chromium.install:
        print(
            "mash: Chromium is missing; installing Debian's chromium package for the browser tests"
        )
        sys.stdout.flush()
        if failed := install_chromium():
            print(f"mash: {failed}", file=sys.stderr)
            return 1
        installed = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
        if installed is None:
            print("mash: apt-get installed chromium but it is not on PATH.", file=sys.stderr)
            return 1
        print(f"mash: installed {_version(installed)}")
    if pdf_libraries.install:
        missing = " ".join(pdf_libraries.missing)
        print(f"mash: installing Debian's {missing} for the picture's PDF")
        sys.stdout.flush()
        if failed := install_pdf_libraries(pdf_libraries.missing):
            print(f"mash: {failed}", file=sys.stderr)
            return 1
    if nginx.install:
        print("mash: nginx is missing; installing Debian's nginx package for the proxy's test")
        sys.stdout.flush()
        if failed := install_nginx():
            print(f"mash: {failed}", file=sys.stderr)
            return 1
        if find_nginx() is None:
            print("mash: apt-get installed nginx but it is not in /usr/sbin.", file=sys.stderr)
            return 1
        print("mash: installed nginx")
    return 0


def _has_venv() -> bool:
    return all(importlib.util.find_spec(name) for name in ("venv", "ensurepip"))


if __name__ == "__main__":
    sys.exit(main())
