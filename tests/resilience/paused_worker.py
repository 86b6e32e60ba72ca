"""A real Celery worker in which one step of a task stops, inside the task's transaction, the
first time it runs, so that a test can kill the worker there.

    python -m tests.resilience.paused_worker enquiries.sla_scan:insert_new_events MARKER \\
        --pool solo --queues q ...

The step runs, then MARKER is written (with the pid of the process running the task) and the
process waits to be killed. Once MARKER exists the step runs normally: a redelivered task, in
this worker's next child or in another worker, completes.
"""

import importlib
import os
import sys
import time
from pathlib import Path


def main() -> None:
    target, marker, *worker_args = sys.argv[1:]
    import django

    django.setup()
    module_name, name = target.split(":")
    module = importlib.import_module(module_name)
    step = getattr(module, name)
    marker_file = Path(marker)

    def step_then_stop(*args, **kwargs):
        result = step(*args, **kwargs)
        if not marker_file.exists():
            written = marker_file.with_suffix(".tmp")
            written.write_text(str(os.getpid()))
            written.rename(marker_file)
            while True:
                time.sleep(0.05)
        return result

    setattr(module, name, step_then_stop)

    from mash.celery import app

    app.worker_main(["worker", *worker_args])


if __name__ == "__main__":
    main()
