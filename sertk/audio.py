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
from .errors import SertkError
from .interfaces import Utterance

PathLike = Union[str, os.PathLike]


def load_audio(path: PathLike, sample_rate: Optional[int] = None) -> tuple[np.ndarray, int]:
    """Decode ``path`` to a mono float32 signal (channels averaged), resampled to
    ``sample_rate`` when given; returns ``(signal, rate)``."""
    import soundfile as sf

    if not os.path.isfile(path):
        raise SertkError(f"{path}: cannot read audio (file not found); check the corpus root")
    try:
        data, rate = sf.read(os.fspath(path), dtype="float32", always_2d=True)
    except (sf.SoundFileError, OSError) as exc:
        reason = getattr(exc, "error_string", None) or str(exc)
        raise SertkError(f"{path}: cannot read audio ({reason.rstrip('.')}); check the corpus root") from None
    signal = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    signal = np.ascontiguousarray(signal)
    if sample_rate is not None and sample_rate != rate:
        return resample(signal, rate, sample_rate), sample_rate
    return signal, rate


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
    """The utterance's mono float32 signal at ``sample_rate``, from ``utt.audio`` or ``utt.path``."""
    if utt.audio is not None:
        if not utt.sample_rate:
            raise SertkError(f"utterance {utt.id}: has audio but no sample_rate; the corpus must set both")
        return resample(utt.audio, utt.sample_rate, sample_rate)
    if utt.path is None:
        raise SertkError(f"utterance {utt.id}: has neither a path nor audio; the corpus must give one")
    return load_audio(utt.path, sample_rate)[0]
