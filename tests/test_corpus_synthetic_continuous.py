"""The synthetic time-continuous corpus: varied lengths, contours at the contour rate, deterministic,
and arousal/valence contours that are functions of the audio (measured back from the wav files)."""
import json

import numpy as np
import pytest
import soundfile as sf

from sertk.corpora.synthetic_continuous import SyntheticContinuous
from tests.fakes.builtins import builtin_classes

TINY = dict(n_speakers=3, n_per_speaker=3, min_seconds=3.0, max_seconds=5.0)


@pytest.fixture(scope="module")
def lagged(tmp_path_factory):
    """Two speakers with a long reaction lag (0.6 s), so that the lag is measurable."""
    corpus = SyntheticContinuous(n_speakers=2, n_per_speaker=4, lag_s=0.6,
                                 cache_dir=str(tmp_path_factory.mktemp("lagged")))
    return corpus.utterances()


def test_speakers_partitions_durations_and_contour_times(tmp_path):
    corpus = SyntheticContinuous(**TINY, contour_rate=25.0, cache_dir=str(tmp_path))
    utts = corpus.utterances()
    assert SyntheticContinuous in builtin_classes("corpora") and corpus.name == "synthetic_continuous"
    assert [u.id for u in utts] == [f"syn0{s}_{i:03d}" for s in (1, 2, 3) for i in range(3)]
    assert {u.speaker: u.partition for u in utts} == {"syn01": "train", "syn02": "dev", "syn03": "test"}
    durations = [sf.info(u.path).duration for u in utts]
    assert all(3.0 <= d <= 5.0 for d in durations) and np.ptp(durations) > 0.5
    for u, duration in zip(utts, durations):
        assert set(u.contours) == {"arousal", "valence"} and set(u.labels) == {"arousal", "valence"}
        for key, contour in u.contours.items():
            assert contour.times[0] == 0.0 and np.allclose(np.diff(contour.times), 0.04)
            assert duration - 0.04 <= contour.times[-1] < duration
            assert len(contour.values) == len(contour.times) and np.all(np.abs(contour.values) <= 1)
            assert u.labels[key] == pytest.approx(float(np.mean(contour.values)), abs=1e-5)
    assert np.std([u.labels["arousal"] for u in utts]) > 0.1  # recordings differ, not only frames


def test_other_contour_rate_and_environment_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SERTK_CACHE", str(tmp_path))
    corpus = SyntheticContinuous(n_speakers=2, n_per_speaker=1, min_seconds=2.0, max_seconds=2.0,
                                 contour_rate=10.0)
    assert corpus.folder().parent == tmp_path / "synthetic_continuous"
    times = corpus.utterances()[0].contours["valence"].times
    assert np.array_equal(times, np.arange(20) / 10.0)


def test_deterministic_cached_and_atomic(tmp_path):
    a = SyntheticContinuous(**TINY, seed=5, cache_dir=str(tmp_path / "a"))
    b = SyntheticContinuous(**TINY, seed=5, cache_dir=str(tmp_path / "b"))
    ua, ub = a.utterances(), b.utterances()
    assert all(np.array_equal(sf.read(x.path)[0], sf.read(y.path)[0]) for x, y in zip(ua, ub))
    for x, y in zip(ua, ub):
        assert x.labels == y.labels
        assert all(np.array_equal(x.contours[k].values, y.contours[k].values) for k in x.contours)
    folder = a.folder()
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folders left
    stamp = (folder / "labels.json").stat().st_mtime_ns
    assert len(SyntheticContinuous(**TINY, seed=5, cache_dir=str(tmp_path / "a")).utterances()) == 9
    assert (folder / "labels.json").stat().st_mtime_ns == stamp
    assert len(json.loads((folder / "labels.json").read_text())) == 9
    other = SyntheticContinuous(**TINY, seed=6, cache_dir=str(tmp_path / "a"))
    assert other.folder() != folder
    assert not np.array_equal(sf.read(other.utterances()[0].path)[0][:1000], sf.read(ua[0].path)[0][:1000])


def test_arousal_follows_the_loudness_measured_in_the_wav_after_the_lag(lagged):
    """Frame RMS in dB over 40 ms frames, read `lag` seconds before each contour frame."""
    score = {lag: _pooled_correlation(lagged, "arousal", _frame_db, lag) for lag in (0.0, 0.3, 0.6, 0.9, 1.2)}
    assert all(r > 0.8 for r in score[0.6]), score
    best = [max(score, key=lambda lag: score[lag][s]) for s in range(2)]
    assert best == [0.6, 0.6], score
    for wrong in (0.0, 1.2):  # a misaligned reading is far worse
        assert all(r < right - 0.2 for r, right in zip(score[wrong], score[0.6])), score


def test_valence_follows_the_spectral_balance_measured_in_the_wav(lagged):
    """Log energy ratio above / below 1 kHz over 40 ms frames."""
    right = _pooled_correlation(lagged, "valence", _frame_tilt, 0.6)
    wrong = _pooled_correlation(lagged, "valence", _frame_tilt, 1.8)
    assert all(r > 0.7 for r in right) and all(w < r - 0.3 for w, r in zip(wrong, right)), (right, wrong)


@pytest.mark.parametrize("params, match", [
    ({"n_speakers": 1}, "n_speakers must be at least 2"),
    ({"n_per_speaker": 0}, "n_per_speaker"),
    ({"min_seconds": 0.5}, "min_seconds"),
    ({"min_seconds": 4.0, "max_seconds": 3.0}, "max_seconds"),
    ({"contour_rate": 0.0}, "contour_rate"),
    ({"lag_s": -0.1}, "lag_s"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"sample_rate": 4000}, "sample_rate"),
])
def test_invalid_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        SyntheticContinuous(**params)


def _pooled_correlation(utts, key, measure, lag):
    """Per speaker: Pearson r of the contour with ``measure`` of the audio at t - lag, over all its frames."""
    result = []
    for speaker in sorted({u.speaker for u in utts}):
        labels, measured = [], []
        for u in (u for u in utts if u.speaker == speaker):
            signal, sr = sf.read(u.path)
            values, centres = measure(signal, sr)
            contour = u.contours[key]
            keep = contour.times >= 0.2 + lag  # cues from the voice onset (0.1 s of lead noise) on
            labels.append(contour.values[keep])
            measured.append(np.interp(contour.times[keep] - lag, centres, values))
        result.append(float(np.corrcoef(np.concatenate(labels), np.concatenate(measured))[0, 1]))
    return result


def _frames(signal, sr):
    hop = int(0.04 * sr)
    n = len(signal) // hop
    return signal[:n * hop].reshape(n, hop), (np.arange(n) + 0.5) * 0.04


def _frame_db(signal, sr):
    frames, centres = _frames(signal, sr)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12), centres


def _frame_tilt(signal, sr):
    frames, centres = _frames(signal, sr)
    power = np.abs(np.fft.rfft(frames * np.hanning(frames.shape[1]), axis=1)) ** 2
    high = np.fft.rfftfreq(frames.shape[1], 1 / sr) >= 1000
    return np.log(power[:, high].sum(1) / power[:, ~high].sum(1)), centres
