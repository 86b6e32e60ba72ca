"""Each role's home page, in the order that picks where "/" sends a person with several roles."""

from dataclasses import dataclass

from agencies.models import WORKING_ROLES, Role


@dataclass(frozen=True)
class RoleHome:
    roles: tuple[str, ...]
    label: str
    url_name: str


ROLE_HOMES = (
    RoleHome((Role.MANAGER,), "Manager dashboard", "manager-dashboard"),
    RoleHome((Role.RESEARCHER, Role.MANAGER), "Triage queue", "triage-queue"),
    RoleHome((Role.PRACTITIONER,), "Agency inbox", "agency-inbox"),
    RoleHome(WORKING_ROLES, "People", "people-search"),
    RoleHome((Role.ANALYST, Role.MANAGER), "Reports", "reports-index"),
    RoleHome((Role.AUDITOR,), "Audit log", "audit-log"),
    RoleHome((Role.ADMINISTRATOR,), "Administration", "administration"),
    RoleHome((Role.ADMINISTRATOR,), "Hub settings", "hub-settings:index"),
)


def homes_for(user) -> list[RoleHome]:
    if not user.is_authenticated:
        return []
    return [home for home in ROLE_HOMES if user.has_role(*home.roles)]
