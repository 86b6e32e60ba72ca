"""A migrated SQLite database for the tests that run the demo as `make demo` has it, made once
for each state of the migrations and copied for each test, rather than migrated afresh by each
test's process (about eight seconds on a quiet machine, each time).

Kept in var/test-sqlite/, named like the PostgreSQL template (tests.database): a changed, added
or removed migration names another file, which is migrated afresh. Made under a file lock, so
that when several xdist workers need it at once one migrates while the others wait."""

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.database import migrations_digest

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "var" / "test-sqlite"


def migrated_sqlite(destination: Path) -> Path:
    """A copy of the migrated SQLite database at `destination`."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    template = FOLDER / f"{migrations_digest()}.sqlite3"
    with (FOLDER / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            _migrate(template)
    shutil.copyfile(template, destination)
    return destination


def _migrate(template: Path) -> None:
    partial = template.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "mash.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{partial}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        timeout=600,
    )
    for stale in FOLDER.glob("*.sqlite3"):
        stale.unlink()
    partial.rename(template)
