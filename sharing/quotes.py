"""Whether one text repeats another: the words both share, however they were typed.

Pure text, with no Django import (like `enquiries.worktime`): the firewall decides which
records a person may read (`firewall.quoted_record`); this says whether a text quotes one.

Both sides are reduced to words the same way, so that typing cannot hide a quote:

- invisible characters go: Unicode format characters (category Cf: zero-width space and
  joiners, soft hyphen, byte order mark, bidi marks, tags) and the other default-ignorable
  ones (variation selectors, the combining grapheme joiner, Hangul fillers);
- NFKC and case folding, so "ﬁ", "ＦＵＬＬ width", "Straße" and "STRASSE" read as typed plainly;
- everything that is not a letter, digit or combining mark (punctuation, smart quotes,
  symbols, spaces, line breaks) separates words.

A text quotes a source if they share a run of `RUN_WORDS` consecutive words, or if the text
holds the whole of a sentence of the source that is shorter than that but at least
`SHORT_SENTENCE_CHARS` long: "Known to MAPPA" is too short to give anything away, "Subject of
a live investigation" is not. Leaving out a word keeps a quote out of reach only where every
run of the sentence either side of the gap is shorter than `RUN_WORDS`.
"""

import re
import unicodedata
from collections.abc import Sequence

RUN_WORDS = 6
SHORT_SENTENCE_CHARS = 20

# Default-ignorable code points that are not in category Cf (Unicode DerivedCoreProperties):
# they show as nothing, or as a blank, so they could sit unseen inside a word.
_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
# Where a record's text ends a sentence: full stops (NFKC has already made "．", "？" and "…"
# plain; "。" it leaves), question and exclamation marks, and line breaks of every kind.
_SENTENCE_END = re.compile(r"[.!?\u3002\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")


def _visible(text: str) -> str:
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return _IGNORABLE.sub("", text)


def _folded(text: str) -> str:
    # Invisible characters go first, or one could keep "e" and a combining accent apart;
    # NFKC again after case folding, which can undo it ("ǰ" folds to "ǰ").
    text = unicodedata.normalize("NFKC", _visible(text))
    return _visible(unicodedata.normalize("NFKC", text.casefold()))


def _is_word_character(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


def words(text: str) -> tuple[str, ...]:
    """`text` as the words it says, normalised as the module docstring says."""
    folded = _folded(text)
    spaced = "".join(char if _is_word_character(char) else " " for char in folded)
    return tuple(spaced.split())


def sentences(text: str) -> list[tuple[str, ...]]:
    """The words of each sentence (or line) of `text`."""
    pieces = _SENTENCE_END.split(_folded(text))
    return [said for said in map(words, pieces) if said]


def _runs(said: Sequence[str], length: int) -> set[tuple[str, ...]]:
    """Every run of `length` consecutive words in `said`."""
    return {tuple(said[start : start + length]) for start in range(len(said) - length + 1)}


def repeated(said: Sequence[str], source: str) -> tuple[str, ...] | None:
    """The words of `said` (from `words`) that repeat `source`: the first run of at least
    `RUN_WORDS` words that `source` also has, as long as the two go on agreeing; else a whole
    short sentence of `source` long enough to mean something. None if `said` quotes neither."""
    source_words = words(source)
    shared = _runs(source_words, RUN_WORDS)
    for start in range(len(said) - RUN_WORDS + 1):
        if tuple(said[start : start + RUN_WORDS]) in shared:
            end = start + RUN_WORDS
            while end < len(said) and tuple(said[end - RUN_WORDS + 1 : end + 1]) in shared:
                end += 1
            return tuple(said[start:end])
    for sentence in sentences(source):
        short = len(sentence) < RUN_WORDS
        meaningful = len(" ".join(sentence)) >= SHORT_SENTENCE_CHARS
        if short and meaningful and sentence in _runs(said, len(sentence)):
            return sentence
    return None
