import socket
import subprocess
import sys
from pathlib import Path

from tools.preflight import (
    backup_tools_problems,
    chromium_plan,
    find_nginx,
    install_chromium,
    install_nginx,
    install_pdf_libraries,
    nginx_plan,
    pdf_libraries_plan,
    problems,
    toolchain_problems,
)

PREFLIGHT = Path(__file__).resolve().parents[1] / "tools" / "preflight.py"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_is_quiet_when_postgresql_and_redis_answer():
    assert (
        problems(
            {
                "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mash",
                "REDIS_URL": "redis://127.0.0.1:6379/0",
            }
        )
        == []
    )


def test_it_names_the_missing_service_and_how_to_start_it():
    port = closed_port()

    found = problems(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/mash",
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        }
    )

    assert found[0].startswith(f"PostgreSQL is not reachable at 127.0.0.1:{port} (DATABASE_URL)")
    assert "postgresql start" in found[0]
    assert found[1].startswith(f"Redis is not reachable at 127.0.0.1:{port} (REDIS_URL)")
    assert "redis-server" in found[1]


def test_it_refuses_sqlite_for_the_test_suite():
    found = problems({"DATABASE_URL": "sqlite:///x.db", "REDIS_URL": "redis://127.0.0.1:6379/0"})

    assert found == ["DATABASE_URL must be a PostgreSQL URL for the tests; it is 'sqlite:///x.db'."]


def test_it_names_an_old_python_a_missing_venv_and_a_missing_npm():
    assert toolchain_problems(version=(3, 12), has_venv=True, has_npm=True) == []

    found = toolchain_problems(version=(3, 10), has_venv=False, has_npm=False)

    assert [line.split(":")[0].split(";")[0] for line in found] == [
        "mash needs Python 3.11 or newer",
        "Python cannot make a virtualenv here",
        "npm is missing (the GOV.UK Design System is built with it)",
    ]
    assert "python3-venv" in found[1]


def test_the_backup_tools_are_asked_for_by_name_with_the_package_that_has_them():
    assert backup_tools_problems({"pg_dump": "/usr/bin/pg_dump", "pg_restore": "/x"}.get) == []

    (found,) = backup_tools_problems({"pg_dump": "/usr/bin/pg_dump"}.get)
    (both,) = backup_tools_problems({}.get)

    assert found.startswith("PostgreSQL's pg_restore is missing")
    assert both.startswith("PostgreSQL's pg_dump and pg_restore are missing")
    assert "apt-get install postgresql-client" in both


def test_chromium_found_is_left_alone():
    plan = chromium_plan(which={"chromium": "/usr/bin/chromium"}.get, is_root=True, has_apt=True)

    assert (plan.found, plan.install, plan.problem) == ("/usr/bin/chromium", False, None)


def test_chromium_missing_is_installed_by_root_with_apt():
    plan = chromium_plan(which=lambda name: None, is_root=True, has_apt=True)

    assert (plan.install, plan.problem) == (True, None)


def test_chromium_missing_stops_at_once_with_the_command_for_anyone_else():
    for is_root, has_apt in [(False, True), (True, False), (False, False)]:
        plan = chromium_plan(which=lambda name: None, is_root=is_root, has_apt=has_apt)

        assert not plan.install
        assert "`sudo apt-get install chromium`" in plan.problem


def test_a_failed_install_says_which_step_failed_and_why():
    steps = []

    def run(step, **options):
        steps.append(step)
        failed = step[1] == "install"
        return subprocess.CompletedProcess(
            step, 100 if failed else 0, "", "E: Unable to locate package chromium\n"
        )

    said = install_chromium(run)

    assert [step[:2] for step in steps] == [["apt-get", "update"], ["apt-get", "install"]]
    assert said.startswith("`apt-get install -y -qq chromium` failed (E: Unable to locate")
    assert install_chromium(lambda step, **options: subprocess.CompletedProcess(step, 0)) == ""


def test_as_a_command_it_needs_no_virtualenv_and_exits_non_zero_with_one_line_per_problem():
    port = closed_port()
    result = subprocess.run(
        # The system's Python, isolated from this virtualenv: it runs before `make setup`.
        [sys.executable, "-I", str(PREFLIGHT)],
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mash",
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "mash: Redis is not reachable" in result.stderr
    assert all(line.startswith("mash: ") for line in result.stderr.splitlines())
    assert result.stdout == ""


ALL_THERE = {
    "pango-1.0": "libpango-1.0.so.0",
    "pangoft2-1.0": "libpangoft2-1.0.so.0",
    "harfbuzz-subset": "libharfbuzz-subset.so.0",
}
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def test_the_pdf_libraries_found_are_left_alone():
    plan = pdf_libraries_plan(
        find_library=ALL_THERE.get, exists={DEJAVU}.__contains__, is_root=True, has_apt=True
    )

    assert (plan.missing, plan.install, plan.problem) == ((), False, None)


def test_the_missing_pdf_libraries_are_named_and_installed_by_root_with_apt():
    without_subsetter = {**ALL_THERE, "harfbuzz-subset": None}.get

    plan = pdf_libraries_plan(
        find_library=without_subsetter, exists=lambda path: False, is_root=True, has_apt=True
    )

    assert plan.missing == ("libharfbuzz-subset0", "fonts-dejavu-core")
    assert (plan.install, plan.problem) == (True, None)


def test_the_missing_pdf_libraries_stop_anyone_else_with_the_command():
    for is_root, has_apt in [(False, True), (True, False)]:
        plan = pdf_libraries_plan(
            find_library=lambda name: None,
            exists=lambda path: True,
            is_root=is_root,
            has_apt=has_apt,
        )

        assert not plan.install
        assert plan.problem == (
            "The libraries the picture's PDF is drawn with are missing: install them with "
            "`sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0`, "
            "then run `make test` again."
        )


def test_the_pdf_libraries_are_installed_without_recommends_and_a_failure_says_why():
    steps = []

    def run(step, **options):
        steps.append(step)
        failed = step[1] == "install"
        return subprocess.CompletedProcess(step, 100 if failed else 0, "", "E: No space left\n")

    said = install_pdf_libraries(("libharfbuzz-subset0", "fonts-dejavu-core"), run)

    assert steps == [
        ["apt-get", "update", "-qq"],
        [
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "libharfbuzz-subset0",
            "fonts-dejavu-core",
        ],
    ]
    assert said == (
        "`apt-get install -y -qq --no-install-recommends libharfbuzz-subset0 fonts-dejavu-core` "
        "failed (E: No space left); install the PDF libraries with `apt-get install "
        "--no-install-recommends libharfbuzz-subset0 fonts-dejavu-core` and run `make test` again."
    )
    ok = install_pdf_libraries(
        ("libpango-1.0-0",), lambda step, **o: subprocess.CompletedProcess(step, 0)
    )
    assert ok == ""


def test_nginx_is_found_on_the_path_or_where_debian_puts_it():
    assert find_nginx(which={"nginx": "/opt/bin/nginx"}.get, exists=lambda path: True) == (
        "/opt/bin/nginx"
    )
    # Not on PATH=/usr/bin:/bin, as for someone other than root.
    assert find_nginx(which=lambda name: None, exists={"/usr/sbin/nginx"}.__contains__) == (
        "/usr/sbin/nginx"
    )
    assert find_nginx(which=lambda name: None, exists=lambda path: False) is None


def test_nginx_found_is_left_alone_and_missing_is_installed_by_root_with_apt():
    found = nginx_plan(found="/usr/sbin/nginx", is_root=False, has_apt=False)
    missing = nginx_plan(found=None, is_root=True, has_apt=True)

    assert (found.found, found.install, found.problem) == ("/usr/sbin/nginx", False, None)
    assert (missing.install, missing.problem) == (True, None)


def test_nginx_missing_stops_anyone_else_with_the_command():
    for is_root, has_apt in [(False, True), (True, False)]:
        plan = nginx_plan(found=None, is_root=is_root, has_apt=has_apt)

        assert not plan.install
        assert "`sudo apt-get install nginx`" in plan.problem


def test_nginx_is_installed_without_recommends_and_a_failure_says_why():
    steps = []

    def run(step, **options):
        steps.append(step)
        return subprocess.CompletedProcess(step, 100 if step[1] == "install" else 0, "", "E: x\n")

    said = install_nginx(run)

    assert steps[1] == ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"]
    assert said.startswith("`apt-get install -y -qq --no-install-recommends nginx` failed (E: x)")
