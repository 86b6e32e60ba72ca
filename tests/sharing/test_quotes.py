"""Whether feedback repeats a record, as pure text: no database, no Django (sharing.quotes)."""

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sharing.quotes import repeated, sentences, words

REPO_ROOT = Path(__file__).resolve().parents[2]

# A sensitive record's detail: a nine-word sentence, then a short one.
DETAIL = "Father was arrested for assault on the mother in January. Case closed."
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u00ad", "\ufeff", "\u2060", "\u200e", "\u202e"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Seen at 3 a.m.: “didn’t” go home!",
            ("seen", "at", "3", "a", "m", "didn", "t", "go", "home"),
        ),
        # zero-width space, soft hyphen, byte order mark, word joiner: gone, not word breaks
        ("hou\u200bse dom\u00adestic \ufeffab\u2060use", ("house", "domestic", "abuse")),
        # bidi overrides and marks around and inside a word
        ("\u202eMo\u200fther\u202c", ("mother",)),
        # a variation selector and a Hangul filler show as nothing
        ("ho\ufe0fme ca\u3164re", ("home", "care")),
        # NFKC: full-width letters, ligatures, superscripts, non-breaking space
        ("ＦＵＬＬ\u00a0ﬁle x²", ("full", "file", "x2")),
        # case folding, not lower(): ß is ss
        ("STRASSE Straße", ("strasse", "strasse")),
        # an accent kept apart from its letter by a zero-width joiner is the same letter
        ("Sia\u200d\u0302n Siân", ("siân", "siân")),
        # every kind of line break, and tabs
        ("one\r\ntwo\u2028three\tfour\nfive", ("one", "two", "three", "four", "five")),
        # hyphens, dashes, slashes and apostrophes all break words
        ("well-being—at 12/03 o'clock", ("well", "being", "at", "12", "03", "o", "clock")),
        ("", ()),
        (" \u200b . , ", ()),
    ],
)
def test_it_reduces_text_to_words(text, expected):
    assert words(text) == expected


def test_it_splits_a_record_into_sentences_and_lines():
    text = "Known to MAPPA. Subject of a live investigation!\nWhy？ Seen… again。Done"

    assert sentences(text) == [
        ("known", "to", "mappa"),
        ("subject", "of", "a", "live", "investigation"),
        ("why",),
        ("seen",),
        ("again",),
        ("done",),
    ]


@given(st.text(), st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(INVISIBLE))))
def test_invisible_characters_never_change_the_words(text, insertions):
    hidden = text
    for position, character in insertions:
        at = position % (len(hidden) + 1)
        hidden = hidden[:at] + character + hidden[at:]

    assert words(hidden) == words(text)


RUN = ("was", "arrested", "for", "assault", "on", "the")


@pytest.mark.parametrize(
    ("feedback", "expected"),
    [
        # six words in a row, as the record has them
        ("We heard he was arrested for assault on the way home.", RUN),
        # the whole sentence, all the run that agrees is given back
        (
            "NFA. Father was arrested for assault on the mother in January.",
            ("father", *RUN, "mother", "in", "january"),
        ),
        # one word left off the end, and one off the start
        (
            "Father was arrested for assault on the mother in",
            ("father", *RUN, "mother", "in"),
        ),
        (
            "was arrested for assault on the mother in January",
            (*RUN, "mother", "in", "january"),
        ),
        # a zero-width space inside a word, and a soft hyphen
        (
            "Father was arr\u200bested for as\u00adsault on the mother.",
            ("father", *RUN, "mother"),
        ),
        # case and punctuation changed
        ("FATHER, was arrested -- for assault; on THE mother!", ("father", *RUN, "mother")),
        # smart quotes and a line break in the middle
        ("“Father” was arrested\r\nfor ‘assault’ on the", ("father", *RUN)),
        # a run over the record's sentence break counts: punctuation is only a word break
        (
            "the mother in January, case closed",
            ("the", "mother", "in", "january", "case", "closed"),
        ),
    ],
)
def test_six_words_in_a_row_are_a_quote(feedback, expected):
    assert repeated(words(feedback), DETAIL) == expected


@pytest.mark.parametrize(
    "feedback",
    [
        # five words in a row are not enough
        "We heard he was arrested for assault yesterday.",
        "The father was arrested for assault at home.",
        # the same words in another order
        "On the assault, for arrested was father.",
        # the known limit: one word left out of the middle of a seven-word sentence leaves no
        # run of six either side
        "Father was arrested for on the mother in January.",
        "Case closed.",
        "",
    ],
)
def test_fewer_than_six_words_in_a_row_are_not(feedback):
    assert repeated(words(feedback), DETAIL) is None


@pytest.mark.parametrize(
    ("source", "feedback", "expected"),
    [
        # a whole short sentence of 20 characters or more is a quote
        (
            "Subject of a live investigation",
            "He is the subject of a live investigation, so no.",
            ("subject", "of", "a", "live", "investigation"),
        ),
        (
            "Domestic abuse incident. Known to MAPPA.",
            "There was a DOMESTIC-ABUSE incident.",
            ("domestic", "abuse", "incident"),
        ),
        # shorter ones say too little to refuse
        ("Known to MAPPA. Case closed.", "He is known to MAPPA; case closed.", None),
        # only the whole sentence counts, in whole words
        ("Subject of a live investigation", "a live investigation", None),
        ("Subject of a live investigation", "subject of a live investigations", None),
    ],
)
def test_a_whole_short_sentence_is_a_quote_if_it_means_something(source, feedback, expected):
    assert repeated(words(feedback), source) == expected


def test_it_imports_without_django() -> None:
    probe = (
        "import sys, sharing.quotes; "
        "print(sorted(name for name in sys.modules if name.startswith('django')))"
    )

    completed = subprocess.run(  # noqa: S603 - fixed interpreter and argument list
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert completed.stdout.strip() == "[]"
