"""What ``sertk predict`` writes: CSV tables or one JSON document, and a plot per windowed recording.

``--out NAME.csv`` writes ``NAME.csv`` (one row per file and head), ``NAME_windows.csv``
(file, start_s, end_s, head, prediction, scores: the time-continuous output of long
recordings), ``NAME_contours.csv`` (frame-level heads) and ``NAME_<file>.png``;
``--out NAME.json`` writes the same content as one JSON document (plots beside it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..atomic import safe_name, write_csv, write_json
from ..figures import pyplot, save_figure
from ..interfaces import Head
from .predict import FileOutputs, score_columns


def _cells(head: Head, value: np.ndarray, score_name: str, classes: Sequence[str]) -> dict[str, str]:
    """Prediction, its score, and one score column per class (empty for other heads' classes)."""
    value = np.asarray(value, dtype=float)
    if head.kind == "classification":
        best = int(value.argmax())
        scores = dict(zip(head.classes, value))
        return {"prediction": head.classes[best], score_name: f"{value[best]:.4f}",
                **{f"{score_name}_{c}": f"{scores[c]:.4f}" if c in scores else "" for c in classes}}
    return {"prediction": f"{float(value):.4g}", score_name: "", **{f"{score_name}_{c}": "" for c in classes}}


def utterance_rows(outputs: Sequence[FileOutputs], heads: Sequence[Head], score_name: str) -> list[dict]:
    classes = score_columns(heads)
    return [{"file": o.path, "head": h.name, **_cells(h, o.utterance[h.name], score_name, classes)}
            for o in outputs for h in heads if h.name in o.utterance]


def window_rows(outputs: Sequence[FileOutputs], heads: Sequence[Head], score_name: str) -> list[dict]:
    classes = score_columns(heads)
    return [{"file": o.path, "start_s": f"{o.starts[k]:.3f}", "end_s": f"{o.ends[k]:.3f}", "head": h.name,
             **_cells(h, o.windows[h.name][k], score_name, classes)}
            for o in outputs if o.starts is not None for k in range(len(o.starts))
            for h in heads if h.name in o.windows]


def contour_rows(outputs: Sequence[FileOutputs], heads: Sequence[Head], score_name: str) -> list[dict]:
    classes = score_columns(heads)
    return [{"file": o.path, "time_s": f"{t:.3f}", "head": h.name, **_cells(h, v, score_name, classes)}
            for o in outputs for h in heads if h.name in o.contours
            for t, v in zip(*o.contours[h.name])]


def as_json(outputs: Sequence[FileOutputs], heads: Sequence[Head], score_name: str, window_s: float,
            hop_s: float) -> dict:
    """Everything predicted, per file: the utterance-level results, windows and contours."""
    def value(h: Head, v) -> dict:
        v = np.asarray(v, dtype=float)
        if h.kind == "classification":
            return {"prediction": h.classes[int(v.argmax())], score_name: dict(zip(h.classes, v.tolist()))}
        return {"value": float(v)}

    files = []
    for o in outputs:
        entry = {"file": o.path, "duration_s": o.duration_s,
                 "heads": {h.name: value(h, o.utterance[h.name]) for h in heads if h.name in o.utterance}}
        if o.starts is not None:
            entry["windows"] = [{"start_s": float(o.starts[k]), "end_s": float(o.ends[k]),
                                 **{h.name: value(h, o.windows[h.name][k]) for h in heads if h.name in o.windows}}
                                for k in range(len(o.starts))]
        if o.contours:
            entry["contours"] = {h.name: {"time_s": o.contours[h.name][0].tolist(),
                                          "values": o.contours[h.name][1].tolist()}
                                 for h in heads if h.name in o.contours}
        files.append(entry)
    return {"score": score_name, "window_s": window_s, "hop_s": hop_s, "files": files}


def plot_windows(path: Path, output: FileOutputs, heads: Sequence[Head], score_name: str) -> None:
    """The time-continuous output of one windowed recording: per head, class scores or the
    value at each window's centre, and frame-level contours."""
    plotted = [h for h in heads if h.name in output.windows or h.name in output.contours]
    plt = pyplot()
    fig, axes = plt.subplots(len(plotted), 1, figsize=(10, 2.6 * len(plotted)), squeeze=False, sharex=True)
    centres = (output.starts + output.ends) / 2 if output.starts is not None else None
    for ax, h in zip(axes[:, 0], plotted):
        times, values = ((centres, output.windows[h.name]) if h.name in output.windows
                         else output.contours[h.name])
        if h.kind == "classification":
            for c, name in enumerate(h.classes):
                ax.plot(times, values[:, c], label=name, linewidth=1)
            ax.legend(loc="upper right", fontsize=7, ncol=min(len(h.classes), 7))
            ax.set_ylabel(score_name)
        else:
            ax.plot(times, values, linewidth=1)
            ax.set_ylabel("value")
        ax.set_title(h.name, fontsize=9)
    axes[-1, 0].set_xlabel("time (s)")
    fig.suptitle(Path(output.path).name, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def write_predictions(out: Path, outputs: Sequence[FileOutputs], heads: Sequence[Head], score_name: str,
                      window_s: float, hop_s: float) -> list[Path]:
    """Write the tables (``.csv``) or the JSON document (``.json``) and the plots; returns the paths."""
    out = Path(out)
    written = []
    if out.suffix.lower() == ".json":
        write_json(out, as_json(outputs, heads, score_name, window_s, hop_s))
        written.append(out)
    else:
        tables = {out: utterance_rows(outputs, heads, score_name),
                  out.with_name(f"{out.stem}_windows.csv"): window_rows(outputs, heads, score_name),
                  out.with_name(f"{out.stem}_contours.csv"): contour_rows(outputs, heads, score_name)}
        for path, rows in tables.items():
            if rows:
                write_csv(path, rows)
                written.append(path)
    for o in outputs:
        if o.starts is not None:
            plot = out.with_name(f"{out.stem}_{safe_name(Path(o.path).stem)}.png")
            n = 1
            while plot in written:  # recordings of the same name in different folders
                n += 1
                plot = out.with_name(f"{out.stem}_{safe_name(Path(o.path).stem)}-{n}.png")
            plot_windows(plot, o, heads, score_name)
            written.append(plot)
    return written
