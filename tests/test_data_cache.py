import contextlib

import numpy as np
import pytest
import soundfile as sf

from sertk.builtins.features import MFCC, LogMel, Raw, Spectrogram
from sertk.data import cache as cache_module
from sertk.data.cache import FeatureCache, audio_digest, cache_key
from sertk.data import extract as extract_module
from sertk.data.extract import extract_features
from sertk.data.segment import SegmentPolicy
from sertk.errors import SertkError
from sertk.interfaces import Feature, Utterance

RATE = 8000


class Counted(Feature):
    """Mean and max of each segment; counts its calls."""

    name = "counted"
    level = "utterance"

    def __init__(self, scale: float = 1.0):
        self.scale = scale
        self._calls = 0

    def __call__(self, signal, sample_rate):
        self._calls += 1
        return self.scale * np.array([signal.mean(), signal.max()])


class Flat(Feature):
    name = "flat"

    def __call__(self, signal, sample_rate):
        return signal  # 1-D from a frame-level feature: invalid


class Recorder:
    def __init__(self):
        self.tasks = []

    @contextlib.contextmanager
    def task(self, description, total):
        self.tasks.append([description, total, 0])
        outer = self

        class Task:
            def advance(self, n=1):
                outer.tasks[-1][2] += n

            def update(self, **fields):
                pass

        yield Task()

    def log(self, message):
        pass


def _corpus(tmp_path, seconds=(1.0, 2.5, 0.4)):
    rng = np.random.default_rng(0)
    utts = []
    for i, s in enumerate(seconds):
        path = tmp_path / f"u{i}.wav"
        sf.write(path, 0.3 * rng.standard_normal(int(s * RATE)), RATE)
        utts.append(Utterance(f"u{i}", f"spk{i % 2}", path=str(path)))
    return utts


def test_second_extraction_recomputes_nothing(tmp_path):
    utts, cache = _corpus(tmp_path), FeatureCache(tmp_path / "cache")
    policy = SegmentPolicy("slices", seconds=1.0, min_last=0.3)
    first = Counted()
    cold = extract_features(utts, [("c", first)], RATE, policy, cache)
    assert first._calls == len(cold.segments) == 1 + 3 + 1
    again = Counted()
    warm = extract_features(utts, [("c", again)], RATE, policy, cache)
    assert again._calls == 0
    for a, b in zip(cold.arrays["c"], warm.arrays["c"]):
        np.testing.assert_array_equal(a, b)
    changed = Counted(scale=2.0)
    extract_features(utts, [("c", changed)], RATE, policy, cache)
    assert changed._calls == len(cold.segments)


def test_key_depends_on_everything_that_changes_the_output():
    signal = np.zeros(100, np.float32)
    base = cache_key(audio_digest(signal), Counted(), RATE, SegmentPolicy())
    assert base == cache_key(audio_digest(signal.copy()), Counted(), RATE, SegmentPolicy())
    others = {
        cache_key(audio_digest(signal + 1e-3), Counted(), RATE, SegmentPolicy()),
        cache_key(audio_digest(signal), Counted(scale=2.0), RATE, SegmentPolicy()),
        cache_key(audio_digest(signal), Counted(), 16000, SegmentPolicy()),
        cache_key(audio_digest(signal), Counted(), RATE, SegmentPolicy("fixed", 1.0)),
        cache_key(audio_digest(signal), MFCC(), RATE, SegmentPolicy()),
        cache_key(audio_digest(signal), MFCC(n_mfcc=20), RATE, SegmentPolicy()),
    }
    assert base not in others and len(others) == 6


def test_corrupt_entry_is_a_miss(tmp_path):
    cache = FeatureCache(tmp_path)
    arrays = [np.arange(6, dtype=np.float32).reshape(3, 2), np.ones((1, 2), np.float32)]
    cache.put("ab" * 32, arrays)
    stored = cache.get("ab" * 32)
    assert len(stored) == 2 and all(np.array_equal(a, b) for a, b in zip(arrays, stored))
    path = tmp_path / "ab" / f"{'ab' * 32}.npz"
    path.write_bytes(path.read_bytes()[:40])
    assert cache.get("ab" * 32) is None
    assert cache.get("cd" * 32) is None


@pytest.mark.parametrize("arrays", [[np.zeros(3)], [np.zeros(3), np.ones(2)]])
def test_failed_write_leaves_nothing(tmp_path, monkeypatch, arrays):
    def broken(f, *arrays, **kwargs):
        f.write(b"PK partial")
        raise OSError("disk full")

    monkeypatch.setattr(cache_module.np, "savez", broken)
    monkeypatch.setattr(cache_module.np, "save", broken)
    cache = FeatureCache(tmp_path)
    with pytest.raises(OSError, match="disk full"):
        cache.put("ef" * 32, arrays)
    assert cache.get("ef" * 32) is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_one_array_is_stored_as_npy_and_an_older_npz_entry_still_reads(tmp_path):
    cache = FeatureCache(tmp_path)
    cache.put("ab" * 32, [np.arange(4, dtype=np.float32)])
    assert [p.name for p in (tmp_path / "ab").iterdir()] == [f"{'ab' * 32}.npy"]
    assert np.array_equal(cache.get("ab" * 32)[0], np.arange(4, dtype=np.float32))
    (tmp_path / "cd").mkdir()
    with open(tmp_path / "cd" / f"{'cd' * 32}.npz", "wb") as f:  # as earlier versions stored every entry
        np.savez(f, np.ones(2, np.float32))
    assert np.array_equal(cache.get("cd" * 32)[0], np.ones(2, np.float32))
    (tmp_path / "ab" / f"{'ab' * 32}.npy").write_bytes(b"\x93NUMPY broken")
    assert cache.get("ab" * 32) is None  # a corrupt entry is a miss


def test_disabled_cache_stores_nothing(tmp_path):
    cache = FeatureCache(None)
    cache.put("ab" * 32, [np.zeros(3)])
    assert cache.get("ab" * 32) is None


def test_extraction_segments_info_and_progress(tmp_path):
    utts = _corpus(tmp_path)
    recorder = Recorder()
    out = extract_features(utts, [("raw", Raw()), ("spec", Spectrogram(n_fft=256, hop_length=80))], RATE,
                           SegmentPolicy("slices", seconds=1.0, min_last=0.3), FeatureCache(None), progress=recorder)
    assert recorder.tasks == [["Extracting features", 3, 3]]
    assert [s.id for s in out.segments] == ["u0#0", "u1#0", "u1#1", "u1#2", "u2#0"]
    assert [s.utt_index for s in out.segments] == [0, 1, 1, 1, 2]
    assert [(s.start_s, s.end_s) for s in out.segments[1:]] == [(0, 1), (1, 2), (2, 2.5), (0, 0.4)]
    assert all(a.shape == (RATE, 1) for a in out.arrays["raw"])
    assert out.info["raw"].dim == 1 and out.info["raw"].frame_rate == RATE
    assert out.info["spec"].dim == 129 and out.info["spec"].level == "frame" and out.info["spec"].frame_rate == 100
    assert all(a.shape == (101, 129) and a.dtype == np.float32 for a in out.arrays["spec"])


def test_parallel_equals_serial_and_warm_run_starts_no_workers(tmp_path, monkeypatch):
    utts = _corpus(tmp_path, seconds=(1.0, 0.5, 0.7, 1.2))
    features = [("logmel", LogMel(n_fft=256, hop_length=80, n_mels=20)), ("spec", Spectrogram(n_fft=128))]
    serial = extract_features(utts, features, 16000, SegmentPolicy(), FeatureCache(None))
    cache, recorder = FeatureCache(tmp_path / "cache"), Recorder()
    parallel = extract_features(utts, features, 16000, SegmentPolicy(), cache, workers=2, progress=recorder)
    monkeypatch.setattr(extract_module, "ProcessPoolExecutor", None)  # any use would fail
    warm = extract_features(utts, features, 16000, SegmentPolicy(), cache, workers=2, progress=recorder)
    assert recorder.tasks == [["Extracting features", 4, 4]] * 2
    for other in (parallel, warm):
        assert serial.segments == other.segments and serial.info == other.info
        for key in serial.arrays:
            for a, b in zip(serial.arrays[key], other.arrays[key], strict=True):
                np.testing.assert_array_equal(a, b)


def test_unreadable_audio_names_the_file(tmp_path):
    utts = _corpus(tmp_path)
    utts[1].path = str(tmp_path / "gone.wav")
    done = extract_features(utts, [("raw", Raw())], RATE, SegmentPolicy(), FeatureCache(None), workers=2)
    assert 1 not in done.kept and [s.kind for s in done.skipped] == ["audio file not found"]
    assert "gone.wav" in done.skipped[0].message
    with pytest.raises(SertkError, match=r"gone\.wav: audio file not found.*data.bad_audio: skip"):
        extract_features(utts, [("raw", Raw())], RATE, SegmentPolicy(), FeatureCache(None), workers=2,
                         bad_audio="stop")


def test_wrong_feature_shape_is_reported(tmp_path):
    with pytest.raises(SertkError, match=r"feature 'f' \(flat\) returned shape \(8000,\); a frame-level feature"):
        extract_features(_corpus(tmp_path)[:1], [("f", Flat())], RATE, SegmentPolicy(), FeatureCache(None))


def test_sweep_removes_only_old_temporary_files(tmp_path):
    import os
    import time

    cache = FeatureCache(tmp_path)
    cache.put("ab" + "0" * 62, [np.zeros(2)])
    folder = tmp_path / "ab"
    old, fresh = folder / ".x.npz.abc.tmp.npz", folder / ".y.npz.def.tmp.npz"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert cache.sweep() == 1
    assert not old.exists() and fresh.exists() and cache.get("ab" + "0" * 62) is not None
