import numpy as np
import pytest

from sertk.errors import ConfigError
from sertk.data.segment import SegmentPolicy, cut, segment_bounds

RATE = 16000
SLICES = SegmentPolicy("slices", seconds=6.0, min_last=3.0)


def _signal(seconds):
    return np.arange(1, int(seconds * RATE) + 1, dtype=np.float32)


@pytest.mark.parametrize("seconds, count", [(14.5, 2), (15.5, 3)])
def test_slices_keep_last_only_when_longer_than_min_last(seconds, count):
    signal = _signal(seconds)
    bounds = segment_bounds(len(signal), RATE, SLICES)
    assert bounds == [(k * 6 * RATE, (k + 1) * 6 * RATE) for k in range(count)]
    pieces = cut(signal, bounds)
    assert [len(p) for p in pieces] == [6 * RATE] * count
    np.testing.assert_array_equal(pieces[1], signal[6 * RATE:12 * RATE])
    if count == 3:  # 3.5 s of audio, then zeros
        np.testing.assert_array_equal(pieces[2][:int(3.5 * RATE)], signal[12 * RATE:])
        assert not pieces[2][int(3.5 * RATE):].any()


def test_short_utterance_gives_one_padded_slice():
    signal = _signal(2.0)
    (piece,) = cut(signal, segment_bounds(len(signal), RATE, SLICES))
    assert len(piece) == 6 * RATE
    np.testing.assert_array_equal(piece[:2 * RATE], signal)
    assert not piece[2 * RATE:].any()


def test_fixed_truncates_or_pads():
    fixed = SegmentPolicy("fixed", seconds=2.0)
    long, short = _signal(3.0), _signal(0.5)
    (cut_long,) = cut(long, segment_bounds(len(long), RATE, fixed))
    np.testing.assert_array_equal(cut_long, long[:2 * RATE])
    (cut_short,) = cut(short, segment_bounds(len(short), RATE, fixed))
    assert len(cut_short) == 2 * RATE and not cut_short[len(short):].any()
    np.testing.assert_array_equal(cut_short[:len(short)], short)


def test_whole_keeps_the_signal():
    signal = _signal(7.3)
    (piece,) = cut(signal, segment_bounds(len(signal), RATE, SegmentPolicy()))
    np.testing.assert_array_equal(piece, signal)


def test_cache_params_ignore_unused_fields():
    assert SegmentPolicy("whole", seconds=1.0).cache_params() == SegmentPolicy().cache_params()
    assert SegmentPolicy("fixed", 2.0, 0.5).cache_params() == SegmentPolicy("fixed", 2.0, 1.0).cache_params()
    assert SegmentPolicy("slices", 2.0, 0.5).cache_params() != SegmentPolicy("slices", 2.0, 1.0).cache_params()


@pytest.mark.parametrize("kwargs, message", [
    (dict(policy="chunks"), "expected one of 'whole', 'fixed', 'slices'"),
    (dict(seconds=0), "must be above 0 and at most 600 s"),
    (dict(policy="slices", seconds=2.0, min_last=3.0), "min_last must be between 0 and seconds"),
])
def test_invalid_policies_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SegmentPolicy(**kwargs)
