from core.exceptions import RefusedWrite, StaleEdit

__all__ = ["IntakeKeyReused", "PersonChanged", "StaleEdit"]


class PersonChanged(StaleEdit):
    """A person's details were corrected (from this enquiry or another naming them) after the
    user read them: their correction would put back what the other one fixed."""

    def __init__(
        self, *, changes: list[str], current_version: int, current_person_version: int
    ) -> None:
        self.current_person_version = current_person_version
        super().__init__(changes=changes, current_version=current_version, what="person")

    def details(self) -> dict:
        return {**super().details(), "current_person_version": self.current_person_version}


class IntakeKeyReused(RefusedWrite):
    """An intake sent with the key of an earlier one but different details: refused, since
    answering with the earlier family would silently drop this concern."""

    status = 422

    def __init__(self, *, references: list[str]) -> None:
        self.references = references
        logged = ", ".join(references)
        super().__init__(
            f"This form was already used to log {logged}, with different details, so nothing "
            f"new was saved. Check {logged}; to log these details as a new enquiry, send them "
            "again.",
            code="intake_key_reused",
        )

    def details(self) -> dict:
        return {"references": self.references}
