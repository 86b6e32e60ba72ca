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
