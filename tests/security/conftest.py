from tests.sharing.conftest import hub  # noqa: F401
