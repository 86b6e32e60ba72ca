"""Two runs of a task at once, the first still inside its transaction while the second runs."""

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connections, transaction

T = TypeVar("T")


def run_while_another_holds(task: Callable[[], T]) -> tuple[T, T]:
    """Run `task` in a transaction that stays open until a second run of `task`, in another
    thread and connection, has finished; return (first result, second result)."""
    first_holds, second_done = threading.Event(), threading.Event()
    results: dict[str, T] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = task()
                first_holds.set()
                second_done.wait(timeout=10)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_holds.wait(timeout=10)
            results["second"] = task()
        finally:
            second_done.set()
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return results["first"], results["second"]
