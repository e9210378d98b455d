"""Windowed openSMILE features (D4.2 §5.3, §4.5.1–2): frame counts and centres, window
functionals by hand, the eGeMAPS frame mode against openSMILE run on one window."""
import numpy as np
import pytest

from sertk_mixedemotions.features import (LLDFunctionals, SmileWindows, frame_count, nearest_windows,
                                          window_functionals)

SR = 16000


def tone(seconds, rate=SR, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = 0.2 + 0.15 * np.sin(2 * np.pi * 0.7 * t)
    return (envelope * np.sin(2 * np.pi * 180 * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def test_frames_and_nearest_windows():
    assert frame_count(5 * SR, SR, 0.04) == 125 and frame_count(5 * SR + 1, SR, 0.04) == 126
    assert frame_count(10, SR, 1.0) == 1
    starts = np.arange(50) * 0.04  # 3-s windows every 40 ms of a 5-s signal
    idx = nearest_windows(starts, 3.0, 0.04, 125)
    assert idx[0] == 0 and idx[-1] == 49  # clamped at both ends
    assert idx[50] == 13  # frame 50 (centre 2.02 s) -> window [0.52, 3.52] (centre 2.02 s)


def test_window_functionals_by_hand():
    centres = np.arange(10) * 0.1 + 0.05  # ten LLD frames of 100 ms
    values = np.arange(10, dtype=float)[:, None] ** 2
    out = window_functionals(centres, values, 5, window_s=0.3, hop_s=0.2, functionals=["max", "min", "range",
                                                                                       "mean", "std"])
    # frame 2 (centre 0.5 s): LLD frames centred at 0.35 .. 0.55 -> 9, 16, 25
    rows = np.array([9.0, 16.0, 25.0])
    np.testing.assert_allclose(out[2], [25, 9, 16, rows.mean(), rows.std()], rtol=1e-6)
    # frame 0 (centre 0.1 s) is shifted inside the signal: frames 0 .. 2
    np.testing.assert_allclose(out[0, :2], [4, 0])
    # a window longer than the signal takes everything
    whole = window_functionals(centres, values, 2, window_s=5.0, hop_s=1.0, functionals=["mean"])
    np.testing.assert_allclose(whole[:, 0], values.mean())


def test_egemaps_windows_match_opensmile_on_one_window():
    import opensmile

    feature = SmileWindows("eGeMAPSv02", window_s=3.0, hop_s=0.04)
    signal = tone(4.0)
    out = feature(signal, SR)
    assert out.shape == (100, 88) and feature.frame_rate(SR) == 25.0 and np.isfinite(out).all()
    # frame 37 (centre 1.5 s) is the first window, [0, 3 s]: openSMILE on that piece alone agrees
    smile = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals)
    alone = smile.process_signal(signal[:3 * SR], SR).to_numpy()[0]
    loud = list(smile.feature_names).index("loudness_sma3_amean")
    assert out[37, loud] == pytest.approx(alone[loud], rel=0.05)
    assert np.array_equal(out[0], out[37])  # early frames repeat the first window
    short = feature(tone(1.0), SR)  # shorter than a window: whole-signal functionals on every frame
    assert short.shape == (25, 88) and np.allclose(short[0], short[-1]) and np.isfinite(short).all()


def test_compare_lld_functionals_shape_and_rate():
    feature = LLDFunctionals("ComParE_2016", deltas=True, window_s=1.0, hop_s=0.04)
    centres, llds = feature.llds(tone(2.0), SR)
    assert llds.shape[1] == 130 and 0 < centres[0] < 0.05
    out = feature(tone(2.0), SR)
    assert out.shape == (50, 650) and np.isfinite(out).all()
    # range = max - min, column by column
    np.testing.assert_allclose(out[:, 260:390], out[:, :130] - out[:, 130:260], rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="functionals must be among"):
        LLDFunctionals(functionals=["median"])
    with pytest.raises(ValueError, match="unknown openSMILE feature set"):
        SmileWindows("GeMAPS_v9")


def test_features_pickle_without_their_opensmile_handles():
    import pickle

    feature = SmileWindows(window_s=1.0, hop_s=1.0)
    feature(tone(2.0), SR)
    copy = pickle.loads(pickle.dumps(feature))
    assert copy._smile is None and copy.cache_params() == {"feature_set": "eGeMAPSv02", "window_s": 1.0, "hop_s": 1.0}
    assert copy(tone(2.0), SR).shape == (2, 88)
