from django.core.exceptions import ValidationError


class StaleEdit(ValidationError):
    """The enquiry changed after the user read it; their write is refused, not merged."""

    def __init__(self, *, changes: list[str], current_version: int, what: str = "enquiry") -> None:
        self.changes = changes
        self.current_version = current_version
        summary = "; ".join(changes) or "it was changed"
        super().__init__(
            f"Someone else changed this {what} after you opened it ({summary}). "
            f"Nothing you entered was saved: check the {what} as it is now and try again.",
            code="stale",
        )


class IntakeKeyReused(ValidationError):
    """An intake sent with the key of an earlier one but different details: refused, since
    answering with the earlier family would silently drop this concern."""

    def __init__(self, *, references: list[str]) -> None:
        self.references = references
        logged = ", ".join(references)
        super().__init__(
            f"This form was already used to log {logged}, with different details, so nothing "
            f"new was saved. Check {logged}; to log these details as a new enquiry, send them "
            "again.",
            code="intake_key_reused",
        )
