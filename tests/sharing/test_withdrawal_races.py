"""Withdrawing a request while another person acts on it (sharing.withdrawals): the row lock
and the version let exactly one through. Transactional, so its rows are its own."""

import threading

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections

from core.exceptions import StaleEdit
from enquiries.models import Notification
from sharing import services, withdrawals
from sharing.models import InformationRequest

from .conftest import make_hub

Status = InformationRequest.Status


def withdraw(hub, *, actor=None, version=1):
    return withdrawals.withdraw_request(
        request=hub.police_request,
        actor=actor or hub.researcher,
        reason="No longer needed.",
        expected_version=version,
    )


def notices() -> list[str]:
    return sorted(
        Notification.objects.filter(kind=Notification.Kind.REQUEST_WITHDRAWN).values_list(
            "recipient__username", flat=True
        )
    )


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="row locks and concurrent transactions need PostgreSQL",
)
def test_a_withdrawal_racing_an_answer_or_another_withdrawal_lets_exactly_one_through(
    migration_data,
):
    """Each at the version it read, released at the same instant in its own transaction and
    connection: the row lock makes the second wait, and then it finds the version moved on."""
    hub = make_hub()
    start = threading.Barrier(3)
    outcomes: dict[str, str] = {}

    def run(name, action) -> None:
        try:
            start.wait(timeout=10)
            action()
            outcomes[name] = "done"
        except StaleEdit:
            outcomes[name] = "stale"
        except ValidationError:
            outcomes[name] = "refused"
        finally:
            connections.close_all()

    actions = {
        "researcher": lambda: withdraw(hub, version=1),
        "manager": lambda: withdraw(hub, actor=hub.manager, version=1),
        "police": lambda: services.record_nothing_held(
            request=hub.police_request, actor=hub.police_officer, expected_version=1
        ),
    }
    threads = [threading.Thread(target=run, args=item) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    request = InformationRequest.objects.get(pk=hub.police_request.pk)
    assert request.version == 2
    winner = next(name for name, outcome in outcomes.items() if outcome == "done")
    if winner == "police":
        # the withdrawals find the version moved on
        assert outcomes == {"researcher": "stale", "manager": "stale", "police": "done"}
        assert (request.status, notices()) == (Status.NOTHING_HELD, [])
    else:
        # the other withdrawal is stale; the answer is refused, the request being withdrawn
        loser = "manager" if winner == "researcher" else "researcher"
        assert outcomes == {winner: "done", loser: "stale", "police": "refused"}
        assert (request.status, request.withdrawn_by.username) == (Status.WITHDRAWN, winner)
        assert notices() == ["police_officer"]
