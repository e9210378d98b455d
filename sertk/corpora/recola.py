"""RECOLA as distributed for the AVEC 2016 challenge.

F. Ringeval, A. Sonderegger, J. Sauer, D. Lalanne, "Introducing the RECOLA
multimodal corpus of remote collaborative and affective interactions", FG 2013;
M. Valstar et al., "AVEC 2016 - Depression, Mood, and Emotion Recognition
Workshop and Challenge", AVEC 2016.  Layout: ``recordings_audio/{train,dev}_N.wav``
(5 min each, one French-speaking subject per recording) and
``ratings_gold_standard/{arousal,valence}/{train,dev}_N.arff`` with attributes
Instance_name, frameTime and GoldStandard every 40 ms.  The test partition's
gold standard is not public.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..interfaces import Contour, Utterance
from ._base import LocalCorpus
from ._contours import shift_back
from ._integrity import Integrity
from .arff import ArffError, read_arff

DIMENSIONS = ("arousal", "valence")
PARTITIONS = ("train", "dev", "test")
FULL_SIZE = {"train": 9, "dev": 9}


class RECOLA(LocalCorpus):
    """RECOLA (Ringeval et al., FG 2013) in the AVEC 2016 layout: arousal/valence contours every 40 ms.

    ``delay_s`` shifts the gold standard back by that many seconds to
    compensate the annotators' reaction time (0 keeps it as distributed).
    """

    name = "recola"
    summary = "RECOLA (AVEC 2016): 5-min recordings, arousal/valence contours every 40 ms"
    layout_hint = "the AVEC 2016 folder holding recordings_audio/ and ratings_gold_standard/"

    def __init__(self, root: str, partitions: Optional[list[str]] = None, delay_s: float = 0.0):
        self.root = root
        self.partitions = tuple(partitions) if partitions else ("train", "dev")
        bad = [p for p in self.partitions if p not in PARTITIONS]
        if bad:
            raise ValueError(f"partitions must be among {', '.join(PARTITIONS)}; got {bad}")
        if delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, got {delay_s}")
        self.delay_s = float(delay_s)

    def _load(self, check: Integrity) -> list[Utterance]:
        audio = self._root("recordings_audio")
        gold = self._root("ratings_gold_standard")
        out = []
        for partition in self.partitions:
            files = sorted(audio.glob(f"{partition}_*.wav"), key=lambda p: _number(p.stem))
            for path in files:
                contours = {}
                for dim in DIMENSIONS:
                    contour = _gold(gold / dim / f"{path.stem}.arff", check)
                    if contour is not None:
                        contours[dim] = shift_back(contour, self.delay_s)
                if len(contours) < len(DIMENSIONS):
                    continue
                out.append(Utterance(id=path.stem, speaker=path.stem, path=str(path), partition=partition,
                                     corpus=self.name, contours=contours, meta={"delay_s": self.delay_s}))
            if partition in FULL_SIZE:
                check.expect(len(files), FULL_SIZE[partition], f"{partition} recordings")
        if not out and not any(audio.glob("*.wav")):
            check.fail(f"no wav files under {audio}; set corpus.params.root to {self.layout_hint}")
        return out


def _gold(path, check: Integrity) -> Optional[Contour]:
    if not path.is_file():
        check.problem("recordings without gold standard", str(path))
        return None
    try:
        columns = read_arff(path)
    except ArffError as exc:
        check.problem("unparsable gold-standard files", str(exc))
        return None
    times = next((v for k, v in columns.items() if k.lower() == "frametime"), None)
    values = columns.get("GoldStandard")
    if times is None or values is None or times.dtype != float or len(times) == 0:
        check.problem("gold-standard files without frameTime/GoldStandard", str(path))
        return None
    return Contour(np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float32))


def _number(stem: str) -> int:
    tail = stem.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0
