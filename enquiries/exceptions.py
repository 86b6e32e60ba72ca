from django.core.exceptions import ValidationError


class StaleEdit(ValidationError):
    """The enquiry changed after the user read it; their write is refused, not merged."""

    def __init__(self, *, changes: list[str], current_version: int) -> None:
        self.changes = changes
        self.current_version = current_version
        summary = "; ".join(changes) or "it was changed"
        super().__init__(
            f"Someone else changed this enquiry after you opened it ({summary}). "
            "Nothing you entered was saved: check the enquiry as it is now and try again.",
            code="stale",
        )
