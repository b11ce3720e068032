"""moto's request ids drawn faster (src/polku/twin/patches/moto_request_ids.py): same strings, same generator state."""

from __future__ import annotations

import pytest
from moto.moto_api._internal.moto_random import MotoRandom

from polku.twin import patches
from polku.twin.patches import moto_request_ids


def _original():
    return getattr(MotoRandom.get_random_string, "__wrapped__", MotoRandom.get_random_string)


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 2026, 123456789])
def test_random_strings_and_generator_state_are_motos(seed):
    original = _original()
    ours, theirs = MotoRandom(seed), MotoRandom(seed)
    calls = [(52, True, False), (20, True, False), (1, True, False), (0, True, False), (8, False, False),
             (52, True, True), (100, False, True), (3, True, False)] * 40
    for length, digits, lower in calls:
        want = original(theirs, length, digits, lower)
        got = moto_request_ids.fast_random_string(ours, length, digits, lower)
        assert got == want
        assert ours.getstate() == theirs.getstate()
        # the generator's other users see the same numbers afterwards
    assert ours.random() == theirs.random()


def test_rejections_draw_further_words():
    """62 letters and digits: a 6-bit draw of 62 or 63 is drawn again (about 3 % of draws)."""
    original = _original()
    rejected = 0
    for seed in range(300):
        a, b = MotoRandom(seed), MotoRandom(seed)
        assert moto_request_ids.fast_random_string(a, 52) == original(b, 52)
        assert a.getstate() == b.getstate()
        probe = MotoRandom(seed)
        rejected += any(probe.getrandbits(32) >> 26 >= 62 for _ in range(52))
    assert rejected > 0  # the corpus does exercise the redraw


def test_applied_patch_is_used_by_motos_request_ids():
    from moto.moto_api._internal import mock_random
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    patches.apply_one("moto_request_ids")
    assert MotoRandom.get_random_string.__wrapped__ is _original()
    state = mock_random.getstate()
    try:
        mock_random.seed(5)
        got = gen_amzn_requestid_long()
        mock_random.seed(5)
        assert got == _original()(mock_random, 52)
        assert len(got) == 52
    finally:
        mock_random.setstate(state)
