"""Free text as the hub takes it and hands it out (docs/security.md "Limits on what can be sent").

Every free-text field of every form and API input is a `FreeTextField` or a
`FreeTextSerializerField` (tests/bad_input/test_every_field.py), and the sharing services,
which the record pages hand what was typed as it came, check again with `clean_text`; so a
page and an API call refuse the same things in the same words, and nothing reaches the
database that PostgreSQL would refuse with an error (a 500) instead of a message:

- Length: a column's own limit, or `TEXT_LIMIT` for text columns that have none. The message
  names the limit and how long the text was.
- Control characters: NUL (which PostgreSQL cannot store in text), the rest of C0 except tab,
  line feed and carriage return, DEL, and lone surrogates (which UTF-8 cannot carry) are
  refused, not stripped, so what is saved is exactly what was typed, and the message says
  where the invisible character is.
- Line breaks are stored as "\\n" (browsers send "\\r\\n", which would count twice against the
  limit), and Unicode in composed form (NFC), so "Siân" typed with a combining circumflex is
  the same name to the person matcher as "Siân" typed with one key.

`spreadsheet_safe` is the way out: every cell of every CSV and Excel export goes through it.
"""

import re
import unicodedata
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

# For text columns with no limit of their own (a concern, a rationale, a record's detail): about
# 1,600 words, several pages, more than any one field needs.
TEXT_LIMIT = 10_000

# C0 but tab, line feed and carriage return; DEL; lone UTF-16 surrogates.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def normalise(text: str) -> str:
    """Line breaks as "\\n" and Unicode in composed form (NFC)."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def control_character(text: str) -> str | None:
    """What to do about the first refused character in `text`, if it holds one."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    return (
        f"Remove the invisible control character (U+{ord(found.group()):04X}) at character "
        f"{found.start() + 1:,}: text may hold tabs and line breaks, but no other control "
        "characters."
    )


def refuse_control_characters(text: str) -> None:
    problem = control_character(text)
    if problem:
        raise ValidationError(problem, code="control_character")


class TextLimit(MaxLengthValidator):
    """Django's max-length check, saying the limit and the length with thousands separated."""

    message = "Use at most %(limit)s characters; this has %(length)s."

    def __call__(self, value: str) -> None:
        if len(value) > self.limit_value:
            raise ValidationError(
                self.message,
                code=self.code,
                params={"limit": f"{self.limit_value:,}", "length": f"{len(value):,}"},
            )


def _validators(existing: list, max_length: int) -> list:
    """The field's own validators, less the null and surrogate checks this one replaces, plus
    this one's: one message for a NUL, not two."""
    replaced = (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)
    kept = [validator for validator in existing if not isinstance(validator, replaced)]
    return [*kept, refuse_control_characters, TextLimit(max_length)]


class FreeTextField(forms.CharField):
    """A form's free text under the hub's rules, `TEXT_LIMIT` long unless told otherwise.

    It gives the browser no `maxlength`: a browser cuts a paste short at it without a word
    (GOV.UK's reason to avoid it), whereas this says how much to cut and keeps all that was
    typed."""

    def __init__(self, *, max_length: int = TEXT_LIMIT, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.validators = _validators(self.validators, max_length)

    def to_python(self, value) -> str | None:
        text = super().to_python(value)
        return normalise(text) if isinstance(text, str) else text


class FreeTextSerializerField(serializers.CharField):
    """An API input's free text under the same rules and words as `FreeTextField`."""

    def __init__(self, *, max_length: int = TEXT_LIMIT, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.validators = _validators(self.validators, max_length)

    default_error_messages = {"invalid": "Give text, in quotes."}

    def to_internal_value(self, data) -> str:
        # DRF's CharField takes 0 for "0"; text is only ever a string, as the schema says.
        if not isinstance(data, str):
            self.fail("invalid")
        return normalise(super().to_internal_value(data))


def clean_text(field: str, value: str, *, max_length: int = TEXT_LIMIT) -> str:
    """For services, which some callers reach with what was typed as it came: the same rules,
    refused as a ValidationError on `field`; the text normalised and stripped."""
    text = normalise(value or "").strip()
    errors = []
    for check in (refuse_control_characters, TextLimit(max_length)):
        try:
            check(text)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({field: errors})
    return text


# Exports.

# The first character of every CSV download: Excel takes a file as UTF-8 only when it starts
# with this byte order mark, and opens "Zażółć" as "ZaÅ¼Ã³Å‚Ä‡" otherwise.
UTF8_BOM = "\ufeff"

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet shows rather than runs. Text that starts like a formula gets a
    leading quote, which makes it text; numbers stay numbers (a negative change is not a
    formula); control characters, which Excel files cannot hold at all, show as U+FFFD."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = _REFUSED.sub("\ufffd", str(value))
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
