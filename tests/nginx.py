"""The proxy of deploy/nginx/mash.conf, run natively for tests: the same file, with only its
upstream and its port moved to loopback, inside a main configuration that keeps every file
nginx writes in a folder of the test's own (so it needs no root)."""

import socket
import subprocess
from pathlib import Path

import pytest

from tools.preflight import find_nginx

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx" / "mash.conf"
# The two lines of the site that name compose's addresses (each marked "loopback" there).
UPSTREAM, LISTEN = "server web:8000;", "listen 8000;"

MAIN = """\
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    client_body_temp_path {folder}/client_temp;
    proxy_temp_path {folder}/proxy_temp;
    fastcgi_temp_path {folder}/fastcgi_temp;
    uwsgi_temp_path {folder}/uwsgi_temp;
    scgi_temp_path {folder}/scgi_temp;
    include {folder}/mash.conf;
}}
"""


def nginx_or_skip() -> str:
    """nginx's path; the test is skipped where it is missing (`make test` installs it)."""
    path = find_nginx()
    if path is None:
        pytest.skip("nginx is not installed; `make test` installs it (tools/preflight.py)")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure(folder: Path, *, upstream_port: int, port: int) -> Path:
    """Writes the site, on loopback, and a main configuration around it into `folder`."""
    site = SITE.read_text()
    assert site.count(UPSTREAM) == 1 and site.count(LISTEN) == 1, "the site's addresses moved"
    site = site.replace(UPSTREAM, f"server 127.0.0.1:{upstream_port};")
    site = site.replace(LISTEN, f"listen 127.0.0.1:{port};")
    (folder / "mash.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(MAIN.format(folder=folder))
    return main


def command(nginx: str, main: Path, *options: str) -> list[str]:
    folder = str(main.parent)
    # -e: where it tells of trouble before it has read error_log (Debian's is /var/log/nginx).
    return [nginx, "-p", folder, "-e", f"{folder}/error.log", "-c", str(main), *options]


def check(nginx: str, main: Path) -> subprocess.CompletedProcess:
    """`nginx -t`: the configuration parses and every file it names can be opened."""
    return subprocess.run(
        command(nginx, main, "-t"), capture_output=True, text=True, timeout=30, check=False
    )


def start(nginx: str, main: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command(nginx, main), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
