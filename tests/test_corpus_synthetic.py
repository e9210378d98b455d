"""The synthetic demo corpus: deterministic, cached atomically, labels of every kind, learnable but not trivial."""
import json
import time

import numpy as np
import pytest
import soundfile as sf

from sertk.corpora.synthetic import PROFILES, Synthetic


@pytest.fixture(scope="module")
def default_corpus(tmp_path_factory):
    return Synthetic(cache_dir=str(tmp_path_factory.mktemp("synthetic-cache")))


def test_default_configuration_and_labels(default_corpus):
    start = time.perf_counter()
    utts = default_corpus.utterances()
    assert time.perf_counter() - start < 15  # about 3-5 s on 2 cores
    assert len(utts) == 6 * 4 * 20
    assert {u.speaker for u in utts} == {f"syn0{i}" for i in range(1, 7)}
    assert {u.labels["emotion"] for u in utts} == {"anger", "happiness", "sadness", "neutral"}
    assert {u.partition for u in utts} == {"train", "dev", "test"}
    first = utts[0]
    info = sf.info(first.path)
    assert info.samplerate == 16000 and 1.0 < info.duration < 2.2
    assert -1 <= first.labels["arousal"] <= 1 and -1 <= first.labels["valence"] <= 1
    contour = first.contours["arousal"]
    assert np.allclose(np.diff(contour.times), 0.1) and contour.times[-1] < info.duration
    assert len(contour.values) == len(contour.times) and set(first.contours) == {"arousal", "valence"}
    assert "480 utterances, 6 speakers" in default_corpus.report


def test_arousal_labels_follow_the_classes(default_corpus):
    utts = default_corpus.utterances()
    mean = {c: np.mean([u.labels["arousal"] for u in utts if u.labels["emotion"] == c]) for c in PROFILES
            if c in {"anger", "sadness"}}
    assert mean["anger"] > 0.4 and mean["sadness"] < -0.3


def test_louder_classes_are_louder(default_corpus):
    def level(emotion):
        picks = [u for u in default_corpus.utterances() if u.labels["emotion"] == emotion][:30]
        return np.mean([10 * np.log10(np.mean(sf.read(u.path)[0] ** 2)) for u in picks])
    assert level("anger") > level("neutral") + 2 > level("sadness") + 4


def test_deterministic_and_cached(tmp_path):
    a = Synthetic(n_speakers=2, n_per_class=2, classes=["fear", "boredom"], seed=3, cache_dir=str(tmp_path / "a"))
    b = Synthetic(n_speakers=2, n_per_class=2, classes=["fear", "boredom"], seed=3, cache_dir=str(tmp_path / "b"))
    ua, ub = a.utterances(), b.utterances()
    assert [u.id for u in ua] == [u.id for u in ub]
    assert all(np.array_equal(sf.read(x.path)[0], sf.read(y.path)[0]) for x, y in zip(ua, ub))
    assert all(x.labels == y.labels for x, y in zip(ua, ub))
    folder = a.folder()
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no temporary folders left
    stamp = (folder / "labels.json").stat().st_mtime_ns
    again = Synthetic(n_speakers=2, n_per_class=2, classes=["fear", "boredom"], seed=3, cache_dir=str(tmp_path / "a"))
    assert len(again.utterances()) == 8 and (folder / "labels.json").stat().st_mtime_ns == stamp
    other = Synthetic(n_speakers=2, n_per_class=2, classes=["fear", "boredom"], seed=4, cache_dir=str(tmp_path / "a"))
    assert other.folder() != folder
    assert len(json.loads((folder / "labels.json").read_text())) == 8


def test_cache_location_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SERTK_CACHE", str(tmp_path))
    assert Synthetic().folder().parent == tmp_path / "synthetic"


def test_invalid_parameters():
    with pytest.raises(ValueError, match="did you mean 'anger'"):
        Synthetic(classes=["angr", "sadness"])
    with pytest.raises(ValueError, match="n_speakers"):
        Synthetic(n_speakers=1)
    with pytest.raises(ValueError, match="at least two"):
        Synthetic(classes=["anger"])


def test_learnable_above_chance_but_not_trivially(default_corpus):
    """Log band energies (mean and std over frames) + logistic regression, leave-one-speaker-out."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    utts = default_corpus.utterances()
    features = np.array([_log_band_means(sf.read(u.path, dtype="float32")[0]) for u in utts])
    labels = np.array([u.labels["emotion"] for u in utts])
    speakers = [u.speaker for u in utts]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    predicted = cross_val_predict(model, features, labels, groups=speakers, cv=LeaveOneGroupOut())
    accuracy = float(np.mean(predicted == labels))
    assert 0.45 < accuracy < 0.97, accuracy  # chance is 0.25


def _log_band_means(signal, frame=512, bands=16):
    """Mean and std over frames of the log energies in equal-width frequency bands."""
    frames = np.lib.stride_tricks.sliding_window_view(signal, frame)[::256] * np.hanning(frame)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    banded = np.log(np.stack([b.sum(axis=1) for b in np.array_split(power[:, 1:], bands, axis=1)], axis=1) + 1e-10)
    return np.concatenate([banded.mean(axis=0), banded.std(axis=0)])
