import socket
import subprocess
import sys

from mash.preflight import problems


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


def test_as_a_command_it_exits_non_zero_with_one_line_per_problem():
    port = closed_port()
    result = subprocess.run(
        [sys.executable, "-m", "mash.preflight"],
        env={
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/mash",
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "Redis is not reachable" in result.stderr
    assert result.stdout == ""
