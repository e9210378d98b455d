"""Figures of a run: confusion matrices and learning curves (PNG, written atomically), and
per-fold figures that report.html embeds.

Figures are drawn on matplotlib's Agg canvas without pyplot, so no display
and no global backend setting are involved.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence, Union

import numpy as np

from ..atomic import PathLike
from ..figures import save_figure
from .scoring import row_percent

if TYPE_CHECKING:
    from .outcomes import History


def plot_confusion(cm: np.ndarray, classes: Sequence[str], path: PathLike, title: str = "",
                   percent: bool = True) -> None:
    """A confusion matrix (rows = true class), row-normalised to percent by
    default as in the confusion tables of Zhao et al. 2019 (Tables 3–6), with
    every cell annotated."""
    from matplotlib.figure import Figure

    values = row_percent(cm) if percent else np.asarray(cm, dtype=float)
    fig, ax, bar = _confusion_layout(len(classes), max(map(len, classes), default=1), bool(title))
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=100 if percent else max(values.max(), 1))
    fig.colorbar(image, cax=bar, label="% of true class" if percent else "utterances")
    ax.set_xticks(range(len(classes)), labels=list(classes), rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), labels=list(classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    threshold = (100 if percent else values.max()) / 2
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:.1f}" if percent else f"{int(value)}", ha="center", va="center", fontsize=8,
                color="white" if value > threshold else "black")
    save_figure(fig, path, dpi=120)


def _confusion_layout(n: int, longest_label: int, titled: bool):
    """Figure, matrix axes and colour-bar axes with margins sized from the class names, so
    the figure is drawn once (a tight bounding box would draw it twice)."""
    from matplotlib.figure import Figure

    cell, label = 0.6, 0.08 * longest_label  # inches; a 10-pt tick label is about 0.08 in per letter
    left, bottom = 0.55 + label, 0.55 + 0.71 * label  # x labels are turned 45°
    top, right = 0.45 if titled else 0.15, 1.2
    side = n * cell
    width, height = left + side + right, bottom + side + top
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((left / width, bottom / height, side / width, side / height))
    bar = fig.add_axes(((left + side + 0.2) / width, bottom / height, 0.2 / width, side / height))
    return fig, ax, bar


def plot_curves(histories: Sequence[Union[History, Mapping[str, Any]]], path: PathLike,
                names: Optional[Sequence[str]] = None) -> None:
    """Learning curves per fold: summed training loss and validation score per
    epoch, with each fold's best epoch marked."""
    from matplotlib.figure import Figure

    from .outcomes import History

    histories = [h if isinstance(h, History) else History.from_dict(h) for h in histories]
    names = list(names) if names is not None else [f"fold {i + 1}" for i in range(len(histories))]
    fig = Figure(figsize=(10, 4))
    loss_ax, score_ax = fig.subplots(1, 2)
    for history, name in zip(histories, names):
        epochs = np.arange(1, history.epochs + 1)
        line, = loss_ax.plot(epochs, [sum(e.values()) for e in history.train_loss], label=name)
        scores = np.array([np.nan if s is None else s for s in history.val_score], dtype=float)
        if np.isfinite(scores).any():
            score_ax.plot(epochs, scores, color=line.get_color(), label=name)
            if history.best_epoch:
                score_ax.plot(history.best_epoch, scores[history.best_epoch - 1], "o", color=line.get_color())
    loss_ax.set(title="training loss", xlabel="epoch", ylabel="loss")
    score_ax.set(title="validation score (o = best epoch)", xlabel="epoch", ylabel="score")
    if len(histories) <= 12:
        loss_ax.legend(fontsize=7)
    save_figure(fig, path, dpi=120, tight=True)


def plot_contours(outcomes, head: str, path: PathLike, recordings: int = 4) -> None:
    """Prediction against gold over time for the first few test recordings of a
    frame-level regression head (one panel each)."""
    from matplotlib.figure import Figure

    picked = [(o, i) for o in outcomes for i in range(len(o.unit_ids))][:recordings]
    if not picked:
        return
    fig = Figure(figsize=(10, 2.2 * len(picked)))
    axes = fig.subplots(len(picked), 1, squeeze=False)[:, 0]
    for ax, (o, i) in zip(axes, picked):
        valid = o.masks[head][i]
        times = np.asarray(o.times[head][i])
        ax.plot(times, np.asarray(o.targets[head][i])[valid], label="gold", color="black")
        ax.plot(times, np.asarray(o.outputs[head][i])[valid], label="prediction", color="tab:orange")
        ax.set_title(f"{head}: {o.unit_ids[i]} (fold {o.name})", fontsize=9)
        ax.set_ylabel(head)
    axes[-1].set_xlabel("time (s)")
    axes[0].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=120, tight=True)


def fold_scores_figure(summary: Mapping[str, Any]):
    """Per-fold test scores of every head and metric (one panel per head, grouped bars per
    fold, the pooled figure as a dashed line), from a run's metrics.json summary."""
    from matplotlib.figure import Figure

    heads = [(name, h) for name, h in summary["heads"].items() if h.get("folds")]
    folds = list(summary["folds"])
    # margins in inches, sized from the fold names, so the figure is drawn once
    panel, width = 2.8, max(6.0, 0.5 * len(folds) + 3)
    top, bottom, left, right = 0.35, 0.35 + 0.046 * max(map(len, folds), default=1), 0.7, 0.8
    fig = Figure(figsize=(width, panel * max(len(heads), 1)))
    height = fig.get_figheight()
    axes = [fig.add_axes((left / width, (height - (k + 1) * panel + bottom) / height,
                          (width - left - right) / width, (panel - top - bottom) / height))
            for k in range(len(heads))]
    for ax, (name, h) in zip(axes, heads):
        metrics = list(h["pooled"])
        width = 0.8 / max(len(metrics), 1)
        for k, metric in enumerate(metrics):
            values = [h["folds"].get(f, {}).get(metric, np.nan) for f in folds]
            bars = ax.bar(np.arange(len(folds)) + (k - (len(metrics) - 1) / 2) * width, values, width, label=metric)
            ax.axhline(h["pooled"][metric], color=bars.patches[0].get_facecolor(), linestyle="--", linewidth=1)
        ax.set_xticks(range(len(folds)), labels=folds, rotation=45, ha="right", fontsize=8)
        ax.set(title=f"{name}: test score per fold (dashed: pooled)", ylabel="score")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def plot_fold_scores(summary: Mapping[str, Any], path: PathLike) -> None:
    """:func:`fold_scores_figure` saved as a PNG (the size report.html shows it at)."""
    save_figure(fold_scores_figure(summary), path, dpi=100)


def fold_curves_figure(histories: Mapping[str, Mapping[str, Any]]):
    """One panel per fold: summed training loss (left axis) and validation score (right
    axis) per epoch, the best epoch marked; ``histories`` as in history.json."""
    from matplotlib.figure import Figure

    columns = min(4, len(histories))
    rows = -(-len(histories) // columns)
    fig = Figure(figsize=(3.2 * columns, 2.4 * rows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, (name, history) in zip(axes, histories.items()):
        losses = [sum(epoch.values()) for epoch in history.get("train_loss", [])]
        epochs = np.arange(1, len(losses) + 1)
        ax.plot(epochs, losses, color="tab:blue")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        scores = np.array([np.nan if s is None else s for s in history.get("val_score", [])], dtype=float)
        if np.isfinite(scores).any():
            twin = ax.twinx()
            twin.plot(np.arange(1, len(scores) + 1), scores, color="tab:orange")
            best = history.get("best_epoch")
            if best:
                twin.plot(best, scores[best - 1], "o", color="tab:orange")
            twin.tick_params(labelsize=7)
    for ax in axes[len(histories):]:
        ax.set_visible(False)
    fig.suptitle("per fold: training loss (blue), validation score (orange, o = best epoch)", fontsize=9)
    fig.subplots_adjust(left=0.06, right=0.94, top=1 - 0.35 / rows, bottom=0.2 / rows, wspace=0.45, hspace=0.45)
    return fig
