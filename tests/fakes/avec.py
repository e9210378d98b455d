"""Fake AVEC challenge trees: RECOLA (AVEC 2016) and SEWA (AVEC 2017)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import write_text, write_tone


def gold_arff(name: str, values: np.ndarray, period: float = 0.04) -> str:
    """A gold-standard ARFF file as distributed with AVEC 2016."""
    lines = ["@relation GoldStandard", "", "@attribute Instance_name string", "@attribute frameTime numeric",
             "@attribute GoldStandard numeric", "", "@data", ""]
    lines += [f"'{name}',{i * period:.6f},{v:.6f}" for i, v in enumerate(values)]
    return "\n".join(lines) + "\n"


def build_recola(root: Path, recordings: dict[str, int], missing_gold: tuple[str, ...] = ()) -> dict:
    """``recordings_audio/<id>.wav`` and ``ratings_gold_standard/{arousal,valence}/<id>.arff``.

    ``recordings`` maps ids (train_1, dev_1, ...) to their number of 40-ms frames;
    returns the gold values written, by (dimension, id).
    """
    written = {}
    for index, (rec, frames) in enumerate(recordings.items()):
        write_tone(root / "recordings_audio" / f"{rec}.wav", seconds=frames * 0.04, sample_rate=8000)
        for offset, dim in enumerate(("arousal", "valence")):
            values = np.round(np.sin(np.arange(frames) / 7.0 + index + offset) * 0.3, 6)
            written[(dim, rec)] = values
            if rec not in missing_gold:
                write_text(root / "ratings_gold_standard" / dim / f"{rec}.arff", gold_arff(rec, values))
    return written


def build_sewa(root: Path, recordings: dict[str, int], audio: str = "audio/{id}.wav",
               labels: str = "labels/{id}.csv", transcriptions: str = "transcriptions/{id}.csv") -> dict:
    """Audio, ``instance;time;arousal;valence;liking`` label files every 100 ms and
    ``start;end;text`` turn transcriptions; returns the label rows written, by id."""
    written = {}
    for index, (rec, frames) in enumerate(recordings.items()):
        write_tone(root / audio.format(id=rec), seconds=frames * 0.1, sample_rate=8000)
        rows = np.round(np.stack([np.linspace(-0.5, 0.5, frames) + index, np.cos(np.arange(frames)),
                                  np.full(frames, 0.1 * index)], axis=1), 6)
        written[rec] = rows
        lines = [f"{rec};{i * 0.1:.1f};{a};{v};{lk}" for i, (a, v, lk) in enumerate(rows)]
        write_text(root / labels.format(id=rec), "\n".join(lines) + "\n")
        turns = ["start;end;text", f"0.00;1.20;Hallo {rec}", "1.50;2.40;das ist; gut", "2.5;2.6;"]
        write_text(root / transcriptions.format(id=rec), "\n".join(turns) + "\n")
    return written
