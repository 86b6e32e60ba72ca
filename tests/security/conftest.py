from tests.sharing.conftest import _hub_for_the_module, hub  # noqa: F401
