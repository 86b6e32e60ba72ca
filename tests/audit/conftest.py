"""The sharing tests' small hub (three agencies, one person in each role, an enquiry police and
health were asked about), for the audit trail's tests."""

from tests.sharing.conftest import hub  # noqa: F401
