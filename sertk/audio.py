"""Reading, writing and resampling audio: the only module that decodes audio files.

Files are decoded with soundfile (wav, flac, ogg, mp3, ...) into mono float32
in [-1, 1]; resampling uses soxr (high quality), which librosa also depends on.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import numpy as np

from .atomic import atomic_path
from .errors import AudioProblem, SertkError
from .interfaces import Utterance

PathLike = Union[str, os.PathLike]

MIN_RATE = 1000
MIN_SECONDS = 0.025
MAX_PEAK = 100.0
SILENT_PEAK = 1e-5


def load_audio(path: PathLike, sample_rate: Optional[int] = None) -> tuple[np.ndarray, int]:
    """Decode ``path`` to a mono float32 signal (channels averaged), resampled to
    ``sample_rate`` when given; returns ``(signal, rate)``."""
    import soundfile as sf

    if not os.path.isfile(path):
        raise AudioProblem("audio file not found", str(path), "check the corpus root")
    try:
        data, rate = sf.read(os.fspath(path), dtype="float32", always_2d=True)
    except (sf.SoundFileError, OSError, RuntimeError) as exc:
        reason = getattr(exc, "error_string", None) or str(exc)
        raise AudioProblem("unreadable audio", str(path), reason.rstrip(".")) from None
    if rate < MIN_RATE:
        raise AudioProblem("implausible sample rate", str(path), f"{rate} Hz in the header")
    if _wav_truncated(path):
        raise AudioProblem("truncated audio", str(path), "the file ends before the length its header gives")
    signal = np.ascontiguousarray(_mono(data))
    if sample_rate is not None and sample_rate != rate:
        return resample(signal, rate, sample_rate), sample_rate
    return signal, rate


def _mono(data: np.ndarray) -> np.ndarray:
    """(frames, channels) float32 → frames, channels averaged."""
    return data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]


class SpanReader:
    """An audio file opened to be read one span at a time (long recordings): ``frames`` and
    ``rate`` come from its header, :meth:`read` decodes one span only."""

    def __init__(self, path: PathLike):
        import soundfile as sf

        self.path = str(path)
        try:
            self._file = sf.SoundFile(os.fspath(path))
        except (sf.SoundFileError, OSError, RuntimeError) as exc:
            raise AudioProblem("unreadable audio", self.path, str(exc).rstrip(".")) from None
        self.frames, self.rate = self._file.frames, self._file.samplerate

    def read(self, start: int, length: int, sample_rate: int) -> tuple[np.ndarray, int]:
        """Frames ``start``.. ``start + length`` as mono float32 at ``sample_rate``, and how
        many frames of the file that was."""
        import soundfile as sf

        try:
            self._file.seek(start)
            block = self._file.read(length, dtype="float32", always_2d=True)
        except (sf.SoundFileError, RuntimeError) as exc:
            raise AudioProblem("unreadable audio", self.path, str(exc).rstrip(".")) from None
        return resample(_mono(block), self.rate, sample_rate), len(block)

    def __enter__(self) -> "SpanReader":
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


def duration(utt: Utterance) -> float:
    """The utterance's length in seconds, from its audio or its file's header (nothing decoded)."""
    import soundfile as sf

    if utt.audio is not None and utt.sample_rate:
        return len(utt.audio) / utt.sample_rate
    try:
        return float(sf.info(os.fspath(utt.path)).duration)
    except (sf.SoundFileError, OSError, TypeError) as exc:
        raise SertkError(f"{utt.path or utt.id}: cannot read the audio header ({exc}); check the corpus root") from None


def write_audio(path: PathLike, signal: np.ndarray, sample_rate: int) -> None:
    """Write ``signal`` atomically; the format follows the file suffix (.wav, .flac, ...)."""
    import soundfile as sf

    path = Path(path)
    fmt = path.suffix[1:].upper()
    if fmt not in sf.available_formats():
        raise SertkError(f"{path}: cannot write audio with suffix '{path.suffix}'; use one of "
                         f"{', '.join('.' + f.lower() for f in sorted(sf.available_formats()))}")
    with atomic_path(path) as tmp:
        sf.write(tmp, np.asarray(signal), sample_rate, format=fmt)


def resample(signal: np.ndarray, orig: int, target: int) -> np.ndarray:
    """Resample a mono signal from ``orig`` Hz to ``target`` Hz (soxr, high quality)."""
    signal = np.asarray(signal, dtype=np.float32)
    if orig == target:
        return signal
    import soxr

    return soxr.resample(signal, orig, target, quality="HQ")


def utterance_signal(utt: Utterance, sample_rate: int) -> np.ndarray:
    """The utterance's mono float32 signal at ``sample_rate``, from ``utt.audio`` or
    ``utt.path``, checked by :func:`check_signal`."""
    if utt.audio is not None:
        if not utt.sample_rate:
            raise SertkError(f"utterance {utt.id}: has audio but no sample_rate; the corpus must set both")
        if utt.sample_rate < MIN_RATE:
            raise AudioProblem("implausible sample rate", f"utterance {utt.id}", f"{utt.sample_rate} Hz")
        signal = resample(utt.audio, utt.sample_rate, sample_rate)
    elif utt.path is None:
        raise SertkError(f"utterance {utt.id}: has neither a path nor audio; the corpus must give one")
    else:
        signal = load_audio(utt.path, sample_rate)[0]
    check_signal(signal, sample_rate, utt.path or f"utterance {utt.id}")
    return signal


def check_signal(signal: np.ndarray, sample_rate: int, where: str) -> None:
    """Raise :class:`AudioProblem` for a signal no feature should see: shorter than
    25 ms, non-finite samples, a peak above 100 (full scale is 1) or below 1e-5
    (silence, e.g. antiphase stereo channels that cancel when averaged)."""
    if len(signal) < MIN_SECONDS * sample_rate:
        raise AudioProblem("empty or too short audio", str(where), f"{len(signal)} samples")
    if not np.isfinite(signal).all():
        raise AudioProblem("non-finite samples", str(where), f"{int((~np.isfinite(signal)).sum())} NaN/Inf")
    peak = float(np.abs(signal).max())
    if peak > MAX_PEAK:
        raise AudioProblem("extreme amplitude", str(where), f"peak {peak:.3g}, full scale is 1")
    if peak < SILENT_PEAK:
        raise AudioProblem("silent audio", str(where), f"peak {peak:.1e}")


def _wav_truncated(path: PathLike) -> bool:
    """Whether a RIFF/WAVE file's data chunk is shorter than its header declares."""
    import struct

    if not str(path).lower().endswith(".wav"):
        return False
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            chunk, length = struct.unpack("<4sI", handle.read(8))
            if chunk == b"data":
                return length != 0xFFFFFFFF and offset + 8 + length > size
            offset += 8 + length + (length & 1)
    return False
