"""What a loaded corpus holds: counts per class, speaker and partition, and its duration.

Durations come from the audio files' headers (:func:`sertk.audio.duration`), so no
audio is decoded; :func:`audio_problems` decodes every recording once to find those a
run would skip.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import numpy as np

from ..audio import check_signal, duration, load_audio
from ..data.extract import Skipped, skipped_report
from ..errors import AudioProblem, SertkError
from ..interfaces import Utterance
from ..progress import Progress, Silent


def corpus_summary(utterances: Sequence[Utterance], key: str = "emotion") -> dict[str, Any]:
    """Counts and totals of a list of utterances, as plain data.

    ``classes`` and ``per_class`` describe the categorical label ``key``;
    ``categorical`` holds the counts of every categorical label key.
    """
    classes: dict[str, Counter] = {}
    dimensions: dict[str, list[float]] = {}
    for utt in utterances:
        for name, value in utt.labels.items():
            if isinstance(value, str):
                classes.setdefault(name, Counter())[value] += 1
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                dimensions.setdefault(name, []).append(float(value))
    seconds, unreadable = _duration(utterances)
    per_class = dict(sorted(classes.get(key, Counter()).items()))
    return {
        "utterances": len(utterances),
        "speakers": len({u.speaker for u in utterances}),
        "classes": len(per_class),
        "per_class": per_class,
        "categorical": {name: dict(sorted(counts.items())) for name, counts in sorted(classes.items())},
        "dimensions": {name: {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v))}
                       for name, v in sorted(dimensions.items())},
        "contours": sorted({name for u in utterances for name in u.contours}),
        "transcribed": sum(1 for u in utterances if u.transcript),
        "word_timed": sum(1 for u in utterances if u.words),
        "tiers": dict(sorted(Counter(tier for u in utterances for tier in u.alignments).items())),
        "per_speaker": dict(sorted(Counter(u.speaker for u in utterances).items())),
        "per_partition": dict(sorted(Counter(u.partition for u in utterances if u.partition).items())),
        "per_group": dict(sorted(Counter(u.group for u in utterances if u.group).items())),
        "duration_s": seconds,
        "unreadable_audio": unreadable,
    }


def _duration(utterances: Sequence[Utterance]) -> tuple[float, int]:
    total, unreadable = 0.0, 0
    for utt in utterances:
        try:
            total += duration(utt)
        except SertkError:
            unreadable += 1
    return total, unreadable


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, value) rows for printing as a two-column table."""
    rows = [("utterances", str(summary["utterances"])), ("speakers", str(summary["speakers"])),
            ("duration", _hours(summary["duration_s"]))]
    if summary["unreadable_audio"]:
        rows.append(("unreadable audio", str(summary["unreadable_audio"])))
    for key, counts in summary["categorical"].items():
        rows.append((f"{key} ({len(counts)} classes)", _counts(counts)))
    for key, stats in summary["dimensions"].items():
        rows.append((key, f"mean {stats['mean']:.3g}, range {stats['min']:.3g} to {stats['max']:.3g}"))
    if summary["contours"]:
        rows.append(("contours", ", ".join(summary["contours"])))
    if summary["transcribed"]:
        rows.append(("transcribed", str(summary["transcribed"])))
    rows.append(("per speaker", _counts(summary["per_speaker"])))
    for name in ("partition", "group"):
        if summary[f"per_{name}"]:
            rows.append((f"per {name}", _counts(summary[f"per_{name}"])))
    return rows


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as aligned plain text, one field per line."""
    rows = summary_rows(summary)
    width = max(len(field) for field, _ in rows)
    return "\n".join(f"{field:<{width}}  {value}" for field, value in rows)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _hours(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{seconds:.1f} s ({hours}:{minutes:02d}:{secs:02d})"


def audio_problems(utterances: Sequence[Utterance], progress: Progress = Silent()) -> list[str]:
    """One line per kind of unusable recording (unreadable, truncated, empty, silent,
    non-finite, extreme), with a count and examples: what ``sertk run`` would skip."""
    found = []
    with progress.task("Checking audio", total=len(utterances)) as task:
        for i, utt in enumerate(utterances):
            try:
                if utt.audio is not None:
                    check_signal(np.asarray(utt.audio), utt.sample_rate or 1, f"utterance {utt.id}")
                else:
                    signal, rate = load_audio(utt.path)
                    check_signal(signal, rate, utt.path)
            except AudioProblem as problem:
                found.append(Skipped(i, problem.kind, str(problem)))
            task.advance()
    return skipped_report(found)

