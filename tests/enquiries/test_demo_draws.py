"""The demo's weighted draws are `random.choices`' own, so a faster draw leaves the demo as it
was: the same values from the same seed, and the same random numbers used up."""

import random

from demo.enquiries import _RATING_CUMULATIVE, _RATING_NAMES, _SCREENED_CUMULATIVE, _weighted


def test_a_weighted_draw_is_what_choices_draws_from_the_same_seed():
    ours, theirs = random.Random(2026), random.Random(2026)  # noqa: S311 - test data

    for turn in range(10_000):
        cumulative = _SCREENED_CUMULATIVE if turn % 3 else _RATING_CUMULATIVE
        names = _RATING_NAMES[: len(cumulative)]
        assert (
            _weighted(ours, _RATING_NAMES, cumulative)
            == (theirs.choices(names, cum_weights=cumulative)[0])
        )

    assert ours.random() == theirs.random()
