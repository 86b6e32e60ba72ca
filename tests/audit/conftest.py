"""The sharing tests' small hub (three agencies, one person in each role, an enquiry police and
health were asked about), for the audit trail's tests."""

from sharing import services
from sharing.models import LawfulBasis
from tests.factories import PASSWORD
from tests.sharing.conftest import _hub_for_the_module, hub  # noqa: F401


def release(record, actor, **extra) -> None:
    """`actor` releases `record` from the page, with every answer the form needs."""
    services.release_record(
        record_pk=record.pk,
        actor=actor,
        reason="Pertinent.",
        necessary_and_proportionate=True,
        lawful_basis=LawfulBasis.CHILDREN_ACT_1989_S47,
        password=PASSWORD,
        channel="page",
        **extra,
    )
