from django.core.exceptions import ValidationError


class RefusedWrite(ValidationError):
    """A write refused as a whole for a reason the client must act on, not a field to correct.
    The API answers with `status` and `details()` beside the message (core.api)."""

    status = 400

    def details(self) -> dict:
        return {}


class StaleEdit(RefusedWrite):
    """The record changed after the user read it; their write is refused, not merged."""

    status = 409

    def __init__(self, *, changes: list[str], current_version: int, what: str = "enquiry") -> None:
        self.changes = changes
        self.current_version = current_version
        summary = "; ".join(changes) or "it was changed"
        super().__init__(
            f"Someone else changed this {what} after you opened it ({summary}). "
            f"Nothing you entered was saved: check the {what} as it is now and try again.",
            code="stale",
        )

    def details(self) -> dict:
        return {"changes": self.changes, "current_version": self.current_version}
