"""Windowed openSMILE features for time-continuous regression (MixedEmotions D4.2 §5.3, §4.5.1–2).

* ``smile_windows``: an openSMILE functionals set (eGeMAPSv02, ComParE_2016, …)
  computed over sliding windows, e.g. eGeMAPS over 3-s windows every 40 ms (§5.3,
  the AV+EC baseline features) or ComParE over non-overlapping 1-s windows (§4.5.1).
  openSMILE runs once per segment in its frame mode (``frameModeFunctionalsConf``).
* ``lld_functionals``: an openSMILE low-level-descriptor set (ComParE_2016 LLDs and
  their deltas) summarised by max, min, range, mean and standard deviation over
  sliding windows (§4.5.2).

Both give frame k centred at (k + ½) · hop seconds, sertk's convention for frame
outputs, so the engine aligns them to 40-ms label frames without a shift.  Windows
that would reach past the signal are clamped inside it (the first and last windows
repeat); a signal shorter than one window gets its whole-signal functionals on every
frame.  openSMILE is audEERING's research (non-commercial) licence.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from typing import Any, Optional

import numpy as np

from sertk import Feature

FUNCTIONALS = ("max", "min", "range", "mean", "std")


def _check_windows(window_s: float, hop_s: float) -> None:
    if not window_s > 0 or not hop_s > 0:
        raise ValueError(f"window_s and hop_s must be > 0, got {window_s} and {hop_s}")


def _feature_set(name: str):
    import opensmile

    sets = [s.name for s in opensmile.FeatureSet]
    if name not in sets:
        raise ValueError(f"unknown openSMILE feature set {name!r}; valid: {', '.join(sets)}")
    return opensmile.FeatureSet[name]


def frame_count(n_samples: int, sample_rate: int, hop_s: float) -> int:
    """Frames of ``hop_s`` covering the signal (at least one)."""
    return max(1, int(np.ceil(n_samples / sample_rate / hop_s - 1e-9)))


def nearest_windows(starts: np.ndarray, window_s: float, hop_s: float, n_frames: int) -> np.ndarray:
    """For frame k (centre (k + ½)·hop) the index of the window whose centre is nearest."""
    centres = (np.arange(n_frames) + 0.5) * hop_s
    return np.clip(np.searchsorted(starts + window_s / 2, centres), 0, len(starts) - 1) if len(starts) > 1 else \
        np.zeros(n_frames, dtype=int)


class SmileWindows(Feature):
    """openSMILE functionals over sliding windows (MixedEmotions D4.2 §5.3: eGeMAPS over 3-s
    windows every 40 ms; §4.5.1: ComParE over non-overlapping 1-s windows), output
    (frames, dim) at 1 / ``hop_s`` frames per second; audEERING research licence."""

    name = "smile_windows"
    summary = "openSMILE functionals over sliding windows, e.g. eGeMAPS 3 s / 40 ms (MixedEmotions D4.2 §5.3)"

    def __init__(self, feature_set: str = "eGeMAPSv02", window_s: float = 3.0, hop_s: float = 0.04):
        _check_windows(window_s, hop_s)
        _feature_set(feature_set)
        self.feature_set, self.window_s, self.hop_s = feature_set, float(window_s), float(hop_s)
        self._smile = self._whole = None
        self._conf_dir: Optional[str] = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in ("_smile", "_whole", "_conf_dir")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _smile=None, _whole=None, _conf_dir=None)

    def _build(self) -> None:
        import opensmile

        self._conf_dir = tempfile.mkdtemp(prefix="sertk-smile-")
        conf = os.path.join(self._conf_dir, "frame_mode.conf.inc")
        with open(conf, "w") as fh:
            fh.write(f"frameMode = fixed\nframeSize = {self.window_s}\nframeStep = {self.hop_s}\n"
                     f"frameCenterSpecial = left\n")
        level = opensmile.FeatureLevel.Functionals
        self._smile = opensmile.Smile(_feature_set(self.feature_set), level, options={"frameModeFunctionalsConf": conf})
        self._whole = opensmile.Smile(_feature_set(self.feature_set), level)

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        if self._smile is None:
            self._build()
        signal = np.asarray(signal, dtype=np.float32)
        n = frame_count(len(signal), sample_rate, self.hop_s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Segment too short": handled below
            table = self._smile.process_signal(signal, sample_rate) if len(signal) >= self.window_s * sample_rate \
                else None
            values = None if table is None else table.to_numpy(dtype=np.float64)
            if values is None or not len(values) or np.isnan(values).all(axis=1).any():
                whole = self._whole.process_signal(signal, sample_rate).to_numpy(dtype=np.float64)
                return np.nan_to_num(np.repeat(whole, n, axis=0)).astype(np.float32)
        starts = np.array([start.total_seconds() for start, _ in table.index])
        return np.nan_to_num(values[nearest_windows(starts, self.window_s, self.hop_s, n)]).astype(np.float32)

    def frame_rate(self, sample_rate: int) -> float:
        return 1.0 / self.hop_s


class LLDFunctionals(Feature):
    """openSMILE low-level descriptors (and their deltas) summarised over sliding windows by
    ``functionals`` (max, min, range, mean, std: MixedEmotions D4.2 §4.5.2 on ComParE LLDs),
    output (frames, LLDs × functionals) at 1 / ``hop_s`` frames per second.  A window takes
    the LLD frames whose centre lies inside it; audEERING research licence."""

    name = "lld_functionals"
    summary = "openSMILE LLDs (+ deltas) with max/min/range/mean/std over sliding windows (MixedEmotions D4.2 §4.5.2)"

    def __init__(self, feature_set: str = "ComParE_2016", deltas: bool = True, window_s: float = 3.0,
                 hop_s: float = 0.04, functionals: list[str] = list(FUNCTIONALS)):
        _check_windows(window_s, hop_s)
        _feature_set(feature_set)
        bad = [f for f in functionals if f not in FUNCTIONALS]
        if bad or not functionals:
            raise ValueError(f"functionals must be among {', '.join(FUNCTIONALS)}, got {functionals}")
        self.feature_set, self.deltas, self.window_s, self.hop_s = feature_set, deltas, float(window_s), float(hop_s)
        self.functionals = list(functionals)
        self._smiles = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_smiles"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _smiles=None)

    def _build(self) -> list:
        import opensmile

        levels = [opensmile.FeatureLevel.LowLevelDescriptors]
        if self.deltas:
            levels.append(opensmile.FeatureLevel.LowLevelDescriptors_Deltas)
        try:
            return [opensmile.Smile(_feature_set(self.feature_set), level) for level in levels]
        except Exception as exc:  # e.g. eGeMAPSv02 has no delta level
            raise ValueError(f"openSMILE {self.feature_set} offers no {'deltas' if self.deltas else 'LLDs'} "
                             f"({exc}); set deltas: false") from None

    def llds(self, signal: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """(frame centres in seconds, (frames, D) LLDs followed by their deltas)."""
        if self._smiles is None:
            self._smiles = self._build()
        tables = [s.process_signal(np.asarray(signal, dtype=np.float32), sample_rate) for s in self._smiles]
        first = tables[0]
        starts = np.array([a.total_seconds() for a, _ in first.index])
        centres = np.array([(a + b).total_seconds() / 2 for a, b in first.index])
        columns = [first.to_numpy(dtype=np.float64)]
        for table in tables[1:]:  # deltas: matched to the LLD frames by start time
            other = np.array([a.total_seconds() for a, _ in table.index])
            take = np.clip(np.searchsorted(other, starts - 1e-6), 0, len(other) - 1)
            columns.append(table.to_numpy(dtype=np.float64)[take])
        return centres, np.nan_to_num(np.concatenate(columns, axis=1))

    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        centres, values = self.llds(signal, sample_rate)
        n = frame_count(len(signal), sample_rate, self.hop_s)
        return window_functionals(centres, values, n, self.window_s, self.hop_s, self.functionals)

    def frame_rate(self, sample_rate: int) -> float:
        return 1.0 / self.hop_s


def window_functionals(centres: np.ndarray, values: np.ndarray, n_frames: int, window_s: float, hop_s: float,
                       functionals: list[str]) -> np.ndarray:
    """(n_frames, D · len(functionals)): for frame k the functionals of the rows whose centre
    lies in the window of ``window_s`` centred at (k + ½)·hop, the window shifted inside
    [0, last centre] near the edges (the nearest row when the signal is shorter)."""
    out = np.zeros((n_frames, values.shape[1] * len(functionals)), dtype=np.float32)
    if not len(values):
        return out
    span = centres[-1] - centres[0]
    for k in range(n_frames):
        centre = (k + 0.5) * hop_s
        lo = min(max(centre - window_s / 2, centres[0]), centres[0] + max(span - window_s, 0.0))
        a, b = np.searchsorted(centres, [lo - 1e-9, lo + window_s - 1e-9])
        rows = values[a:max(b, a + 1)] if a < len(values) else values[-1:]
        top, bottom, mean = rows.max(0), rows.min(0), rows.mean(0)
        stats = {"max": top, "min": bottom, "range": top - bottom, "mean": mean, "std": rows.std(0)}
        out[k] = np.concatenate([stats[f] for f in functionals])
    return out


COMPONENTS = [SmileWindows, LLDFunctionals]
