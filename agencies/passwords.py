"""How hard a new password is to guess, by zxcvbn's estimate (settings AUTH_PASSWORD_VALIDATORS).

Django's validators refuse what is short, common, all digits or like the person's name;
`aaaaaaaaaaaa`, `qwertyuiopas`, `111111111111a` and `analystanalyst` (for `analyst`) pass them
all. zxcvbn estimates how many guesses a password would take, knowing keyboard walks,
repeats, sequences, dates, common words and names, and what it is told about the person and the
hub; a password below the score asked for (3 of 4: about 10^8 guesses or more) is refused with
what zxcvbn suggests instead.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

# zxcvbn's work grows faster than the password, and it refuses to look at more than this many
# characters; the start of a longer password already decides whether it is strong enough.
LONGEST_CHECKED = 72
ENOUGH = "Three or four words that have nothing to do with each other make a strong password."


def _words(text: str) -> list[str]:
    """`text`, and each part of it split where a name or address splits: all of them guesses."""
    text = text.strip().lower()
    parts = [part for part in re.split(r"[\s@._+\-']+", text) if part]
    return [text, *parts] if text else []


class GuessabilityValidator:
    """Refuses a password zxcvbn scores below `min_score` (0 to 4), taking as known guesses the
    person's username, names and email, "mash" and the hub's name."""

    def __init__(
        self,
        min_score: int = 3,
        user_attributes: tuple[str, ...] = ("username", "first_name", "last_name", "email"),
    ) -> None:
        self.min_score = min_score
        self.user_attributes = user_attributes

    def known_guesses(self, user=None) -> list[str]:
        guesses = ["mash", *_words(settings.HUB_NAME)]
        for attribute in self.user_attributes if user is not None else ():
            guesses.extend(_words(str(getattr(user, attribute, "") or "")))
        return guesses

    def validate(self, password: str, user=None) -> None:
        result = zxcvbn(password[:LONGEST_CHECKED], user_inputs=self.known_guesses(user))
        if result["score"] >= self.min_score:
            return
        feedback = result["feedback"]
        warning = (feedback.get("warning") or "").rstrip(".")
        why = f": {warning[:1].lower()}{warning[1:]}" if warning else ""
        advice = " ".join([*feedback.get("suggestions", []), ENOUGH])
        raise ValidationError(
            "This password would be too easy to guess%(why)s. %(advice)s",
            code="password_too_guessable",
            params={"why": why, "advice": advice},
        )

    def get_help_text(self) -> str:
        return (
            "Your password must be hard to guess: not a keyboard pattern, a repeat, a date, a "
            f"common word or phrase, or your name. {ENOUGH}"
        )
