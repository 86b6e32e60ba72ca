"""Runs a module or a script at the test's instant: `python -m tests.at_instant celery -A mash
worker ...`, `python -m tests.at_instant bench/queue.py ...`.

A test travels in time inside its own process only; a child process it starts (a Celery
worker, the demo command) would otherwise read the real clock and disagree with the test
about what "now" is. The test's fixture puts the difference between its clock and the real
one in `MASH_TEST_CLOCK_OFFSET`; this moves the child's clock by the same amount, ticking
from there, then runs the module as `python -m` would, or the script as `python` would.
"""

import os
import runpy
import sys
import time

import time_machine

from tests.instants import OFFSET_VARIABLE


def main() -> None:
    offset = float(os.environ.get(OFFSET_VARIABLE) or 0)
    module, *arguments = sys.argv[1:]
    sys.argv = [module, *arguments]
    with time_machine.travel(time.time() + offset, tick=True):
        time.time()  # a travelling clock starts ticking when first read: now, not later
        if module.endswith(".py"):
            runpy.run_path(module, run_name="__main__")
        else:
            runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
