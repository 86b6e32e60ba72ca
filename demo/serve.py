"""`make demo`'s server, with a Celery worker and beat beside it on the folder broker.

    python -m demo.serve [SERVER COMMAND...]    (default: python manage.py runserver)

The three run as one: when any of them stops, or this process is interrupted (Ctrl-C) or
terminated, all three are stopped before it exits. Each runs in a process group of its own,
so that stopping it stops what it started too (runserver's autoreloader serves from a child
process), and so that Ctrl-C reaches them through this process alone, which then waits for
the worker to finish its task.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Modules to run with `python -m`. One task at a time, in the worker's own process: SQLite
# takes one writer at once.
WORKER = [
    "celery",
    "-A",
    "mash",
    "worker",
    "--pool",
    "solo",
    "--concurrency",
    "1",
    # Every queue (mash.settings CELERY_TASK_ROUTES): the demo has one worker for all.
    "--queues",
    "clock,mail,long",
    "--without-heartbeat",
    "--without-gossip",
    "--without-mingle",
    "--loglevel",
    "INFO",
]
BEAT = ["celery", "-A", "mash", "beat", "--loglevel", "WARNING"]
SERVER = ["manage.py", "runserver"]
STOP_SECONDS = 10
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def say(message: str) -> None:
    print(f"mash demo: {message}", flush=True)


def clear_processed_messages() -> None:
    """The broker keeps each message it has handed over (`store_processed`); the last run's
    are of no further use."""
    from django.conf import settings

    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("processed_folder")
    if folder:
        for message in Path(folder).glob("*.msg"):
            message.unlink(missing_ok=True)


def start(command: list[str]) -> subprocess.Popen:
    # The demo's own commands, and the server command of whoever runs it: no shell.
    return subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, process_group=0)  # noqa: S603


def stop(processes: dict[str, subprocess.Popen]) -> None:
    """Ask each process group to stop (the worker finishes its task), then kill what is left;
    a group whose first process has gone may still hold the processes it started."""
    say("stopping the server, the Celery worker and beat")
    for process in processes.values():
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for name, process in processes.items():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            say(f"the {name} did not stop in {STOP_SECONDS} s; killing it")
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def main(server: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")
    clear_processed_messages()
    stopping: list[int] = []
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda signum, frame: stopping.append(signum))
    commands = {
        "Celery worker": [sys.executable, "-m", *WORKER],
        "Celery beat": [sys.executable, "-m", *BEAT],
        "server": server or [sys.executable, *SERVER],
    }
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            processes[name] = start(command)
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    say(f"the {name} stopped (exit code {process.returncode})")
                    return process.returncode
            time.sleep(0.2)
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
