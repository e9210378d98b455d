"""The cache's index of recordings: a warm run decodes nothing, a changed file is never trusted."""
import os

import numpy as np
import soundfile as sf

from sertk.data import extract as extract_module
from sertk.data.cache import FeatureCache, Recording, audio_digest, recording_key
from sertk.data.extract import extract_features
from sertk.data.segment import SegmentPolicy
from sertk.interfaces import Feature, Utterance

RATE = 8000
POLICY = SegmentPolicy("slices", seconds=0.5, min_last=0.2)


class Stats(Feature):
    """Mean and max of each segment."""

    name = "stats"
    level = "utterance"

    def __call__(self, signal, sample_rate):
        return np.array([signal.mean(), signal.max()])


def _write(path, seed, seconds=1.0):
    sf.write(path, 0.3 * np.random.default_rng(seed).standard_normal(int(seconds * RATE)), RATE, subtype="FLOAT")
    return Utterance(path.stem, "spk", path=str(path))


def _decodes(monkeypatch) -> list[str]:
    """The paths decoded from now on."""
    decoded, real = [], extract_module.utterance_signal

    def counting(utt, sample_rate):
        decoded.append(utt.path)
        return real(utt, sample_rate)

    monkeypatch.setattr(extract_module, "utterance_signal", counting)
    return decoded


def _extract(utts, cache, workers=1):
    return extract_features(utts, [("s", Stats())], RATE, POLICY, cache, workers=workers)


def test_warm_run_decodes_nothing_and_gives_the_same_arrays(tmp_path, monkeypatch):
    utts, cache = [_write(tmp_path / "a.wav", 0), _write(tmp_path / "b.wav", 1, 1.3)], FeatureCache(tmp_path / "c")
    cold = _extract(utts, cache)
    decoded = _decodes(monkeypatch)
    warm = _extract(utts, cache, workers=2)
    assert decoded == []
    assert warm.segments == cold.segments and warm.info == cold.info
    for a, b in zip(cold.arrays["s"], warm.arrays["s"], strict=True):
        np.testing.assert_array_equal(a, b)


def test_two_files_never_share_an_index_entry(tmp_path):
    utts, cache = [_write(tmp_path / "a.wav", 0), _write(tmp_path / "b.wav", 1)], FeatureCache(tmp_path / "c")
    _extract(utts, cache)
    indexed = [cache.recording(recording_key(u.path, RATE, POLICY)) for u in utts]
    assert indexed[0].digest != indexed[1].digest
    for utt, entry in zip(utts, indexed):
        signal = sf.read(utt.path, dtype="float32")[0]
        assert entry == Recording(audio_digest(signal), len(signal))


def test_touching_or_rewriting_a_file_invalidates_its_entry(tmp_path, monkeypatch):
    utt, cache = _write(tmp_path / "a.wav", 0), FeatureCache(tmp_path / "c")
    before = _extract([utt], cache)
    key = recording_key(utt.path, RATE, POLICY)
    stat = os.stat(utt.path)
    os.utime(utt.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert recording_key(utt.path, RATE, POLICY) != key
    _write(tmp_path / "a.wav", 7)  # same size, new samples, old modification time restored
    os.utime(utt.path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(utt.path).st_size == stat.st_size and recording_key(utt.path, RATE, POLICY) != key
    decoded = _decodes(monkeypatch)
    after = _extract([utt], cache)
    assert decoded == [utt.path]
    assert not np.array_equal(before.arrays["s"][0], after.arrays["s"][0])
    assert recording_key(utt.path, RATE, SegmentPolicy()) != recording_key(utt.path, RATE, POLICY)
    assert recording_key(utt.path, 16000, POLICY) != recording_key(utt.path, RATE, POLICY)


def test_a_wrong_entry_is_corrected_from_the_decoded_audio(tmp_path):
    utt, cache = _write(tmp_path / "a.wav", 0), FeatureCache(tmp_path / "c")
    truth = _extract([utt], FeatureCache(None))
    key = recording_key(utt.path, RATE, POLICY)
    cache.put_recording(key, Recording("0" * 64, 3 * RATE))
    done = _extract([utt], cache)
    assert done.segments == truth.segments
    np.testing.assert_array_equal(done.arrays["s"][0], truth.arrays["s"][0])
    assert cache.recording(key).digest == audio_digest(sf.read(utt.path, dtype="float32")[0])


def test_unreadable_or_missing_entries_and_disabled_cache(tmp_path):
    cache = FeatureCache(tmp_path)
    assert recording_key(tmp_path / "gone.wav", RATE, SegmentPolicy()) is None
    assert recording_key(None, RATE, SegmentPolicy()) is None
    cache.put_recording("ab" * 32, Recording("d" * 64, 10))
    assert cache.recording("ab" * 32) == Recording("d" * 64, 10)
    (tmp_path / "ab" / f"{'ab' * 32}.audio.json").write_text('{"digest": ')
    assert cache.recording("ab" * 32) is None and cache.recording(None) is None
    disabled = FeatureCache(None)
    disabled.put_recording("ab" * 32, Recording("d" * 64, 10))
    assert disabled.recording("ab" * 32) is None
