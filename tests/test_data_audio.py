import numpy as np
import pytest
import soundfile as sf

from sertk.audio import load_audio, resample, utterance_signal, write_audio
from sertk.errors import SertkError
from sertk.interfaces import Utterance


def _dominant_hz(signal, rate):
    return np.argmax(np.abs(np.fft.rfft(signal))) * rate / len(signal)


def test_int16_wav_decodes_to_exact_floats(tmp_path):
    ints = np.array([0, 1, -1, 16384, -32768, 32767], dtype=np.int16)
    sf.write(tmp_path / "a.wav", ints, 8000, subtype="PCM_16")
    signal, rate = load_audio(tmp_path / "a.wav")
    assert rate == 8000 and signal.dtype == np.float32
    np.testing.assert_array_equal(signal, ints / np.float32(32768))
    assert signal.min() >= -1 and signal.max() <= 1


def test_stereo_is_averaged_to_mono(tmp_path):
    left, right = np.full(100, 0.5), np.linspace(-1, 0.5, 100)
    sf.write(tmp_path / "s.wav", np.stack([left, right], axis=1), 8000, subtype="FLOAT")
    signal, _ = load_audio(tmp_path / "s.wav")
    assert signal.shape == (100,)
    np.testing.assert_allclose(signal, (left + right) / 2, atol=1e-7)


def test_resampling_keeps_duration_and_frequency(tmp_path):
    t = np.arange(22050) / 22050
    sf.write(tmp_path / "t.wav", 0.5 * np.sin(2 * np.pi * 440 * t), 22050)
    signal, rate = load_audio(tmp_path / "t.wav", 16000)
    assert rate == 16000 and len(signal) == 16000 and signal.dtype == np.float32
    assert _dominant_hz(signal, rate) == pytest.approx(440, abs=1)
    assert len(resample(signal, 16000, 8000)) == 8000
    assert resample(signal, 16000, 16000) is signal


def test_flac_round_trip_is_atomic(tmp_path):
    signal = (0.3 * np.sin(np.linspace(0, 200, 4000))).astype(np.float32)
    write_audio(tmp_path / "out" / "x.flac", signal, 16000)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x.flac"]
    back, rate = load_audio(tmp_path / "out" / "x.flac")
    assert rate == 16000
    np.testing.assert_allclose(back, signal, atol=1 / 32768)


def test_write_rejects_unknown_suffix(tmp_path):
    with pytest.raises(SertkError, match=r"x\.foo: cannot write audio"):
        write_audio(tmp_path / "x.foo", np.zeros(10, np.float32), 8000)


def test_unreadable_files_name_the_path(tmp_path):
    missing = tmp_path / "missing.wav"
    with pytest.raises(SertkError, match=r"missing\.wav: audio file not found \(check the corpus root\)"):
        load_audio(missing)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio at all" * 10)
    with pytest.raises(SertkError, match=r"garbage\.wav: unreadable audio \(.+\)"):
        load_audio(garbage)


def test_utterance_signal_from_audio_or_path(tmp_path):
    tone = (0.5 * np.sin(2 * np.pi * 200 * np.arange(8000) / 8000)).astype(np.float32)
    in_memory = utterance_signal(Utterance("a", "s", audio=tone, sample_rate=8000), 16000)
    assert len(in_memory) == 16000 and _dominant_hz(in_memory, 16000) == pytest.approx(200, abs=1)
    sf.write(tmp_path / "b.wav", tone, 8000, subtype="FLOAT")
    np.testing.assert_array_equal(utterance_signal(Utterance("b", "s", path=str(tmp_path / "b.wav")), 8000), tone)
    with pytest.raises(SertkError, match="utterance c: has neither a path nor audio"):
        utterance_signal(Utterance("c", "s"), 8000)


def test_max_seconds_leaves_out_longer_recordings_from_headers_and_arrays(tmp_path):
    from sertk.engine.experiment import short_enough

    write_audio(tmp_path / "two.wav", np.zeros(16000 * 2, dtype=np.float32), 16000)
    utts = [Utterance("one", "s", audio=np.zeros(8000, dtype=np.float32), sample_rate=8000),
            Utterance("three", "s", audio=np.zeros(24000, dtype=np.float32), sample_rate=8000),
            Utterance("two", "s", path=str(tmp_path / "two.wav"))]
    assert [u.id for u in short_enough(utts, 2.0)] == ["one", "two"]
    assert [u.id for u in short_enough(utts, 1.5)] == ["one"]
