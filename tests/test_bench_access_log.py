"""bench/access_log.py still runs: at a tiny size, in a process of its own, against a database
of its own, loading the one-table log, partitioning it and timing both (issue 23)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.database import template_name
from tests.test_benches_run import bench_database_url

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the log is partitioned on PostgreSQL only",
)


def test_the_bench_partitions_the_log_it_loaded_and_times_both(worker_id, django_db_setup):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment["BENCH_TEMPLATE_DATABASE"] = template_name(settings.DATABASES["default"]["NAME"])

    finished = subprocess.run(
        [
            *[sys.executable, "-m", "tests.at_instant", "bench/access_log.py"],
            *["--entries", "2400", "--runs", "2"],
            *["--database-url", bench_database_url("access_log", worker_id)],
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "2,400 entries over 24 months loaded" in finished.stdout
    assert ", 0 entries in the DEFAULT" in finished.stdout
    assert "| a month: one person's newest 25 |" in finished.stdout
