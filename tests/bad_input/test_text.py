"""core.text, the hub's one set of rules for free text in and spreadsheet cells out."""

from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

from core.text import (
    TEXT_LIMIT,
    FreeTextField,
    FreeTextSerializerField,
    clean_text,
    normalise,
    refuse_control_characters,
    spreadsheet_safe,
)

REFUSED = [chr(code) for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]


class Note(forms.Form):
    text = FreeTextField(max_length=20)


class NoteInput(serializers.Serializer):
    text = FreeTextSerializerField(max_length=20)


def test_line_breaks_become_newlines_and_accents_are_composed():
    assert normalise("one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"
    assert normalise("Sia\u0302n Lly\u0302r") == "Siân Llŷr"
    assert normalise("عبد الله") == "عبد الله"


@pytest.mark.parametrize("char", REFUSED, ids=lambda char: f"U+{ord(char):04X}")
def test_every_c0_control_but_tab_and_line_breaks_and_del_is_refused(char):
    with pytest.raises(ValidationError) as refused:
        refuse_control_characters(f"ab{char}")

    assert refused.value.messages == [
        f"Remove the invisible control character (U+{ord(char):04X}) at character 3: text "
        "may hold tabs and line breaks, but no other control characters."
    ]


@pytest.mark.parametrize(
    "text", ["tab\there", "line\nbreak", "carriage\rreturn", "é ŵ ż ع", "\u0085 next line"]
)
def test_tabs_line_breaks_and_every_other_character_are_text(text):
    refuse_control_characters(text)


def test_a_form_field_says_the_limit_and_the_length_and_gives_the_browser_no_maxlength():
    form = Note({"text": "x" * 12_345})

    assert not form.is_valid()
    assert form.errors["text"] == ["Use at most 20 characters; this has 12,345."]
    assert "maxlength" not in str(form["text"])
    assert FreeTextField().max_length == TEXT_LIMIT


def test_a_form_field_gives_one_message_for_a_nul_not_two():
    form = Note({"text": "a\x00b"})

    assert not form.is_valid()
    assert len(form.errors["text"]) == 1
    assert "U+0000" in form.errors["text"][0]


def test_a_form_field_counts_a_line_break_once_and_composes_accents():
    form = Note({"text": "Sia\u0302n\r\n" + "x" * 14})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["text"] == "Siân\n" + "x" * 14


def test_a_serializer_field_has_the_same_rules_and_words():
    long, nul, fine = (
        NoteInput(data={"text": "x" * 21}),
        NoteInput(data={"text": "a\x00b"}),
        NoteInput(data={"text": " Sia\u0302n\r\nLly\u0302r "}),
    )

    assert not long.is_valid()
    assert long.errors["text"] == ["Use at most 20 characters; this has 21."]
    assert not nul.is_valid()
    assert len(nul.errors["text"]) == 1 and "U+0000" in nul.errors["text"][0]
    assert fine.is_valid()
    assert fine.validated_data["text"] == "Siân\nLlŷr"


def test_the_api_schema_still_states_the_limit():
    field = FreeTextSerializerField(max_length=20)

    assert field.max_length == 20
    assert [v.limit_value for v in field.validators if hasattr(v, "limit_value")] == [20]


def test_clean_text_refuses_on_the_field_named_and_returns_the_text_normalised():
    assert clean_text("reason", "  Why\r\nnot  ") == "Why\nnot"

    with pytest.raises(ValidationError) as refused:
        clean_text("reason", "x\x07" + "y" * 30, max_length=10)

    assert list(refused.value.message_dict) == ["reason"]
    assert len(refused.value.message_dict["reason"]) == 2


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Plain", "Plain"),
        (None, ""),
        (-12.5, "-12.5"),
        (-3, "-3"),
        (Decimal("-0.5"), "-0.5"),
        ("bell\x07", "bell\ufffd"),
    ],
)
def test_spreadsheet_cells_never_start_like_a_formula_and_numbers_stay_numbers(value, cell):
    assert spreadsheet_safe(value) == cell
