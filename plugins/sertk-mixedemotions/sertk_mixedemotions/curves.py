"""The cooperative-learning report (MixedEmotions D4.2 §2.3–2.4): learning curves of test UA
against the number of human labels for each mode, the items asked, and how well each confidence
measure separates right from wrong test predictions, written into the run directory."""
from __future__ import annotations

from typing import Any

import numpy as np

from sertk import Analyzer, SertkError, pyplot, save_figure, write_csv, write_json

from .cooperative import MODES, RESULTS

STYLE = {"random": ("tab:gray", "o"), "active": ("tab:blue", "s"), "self_training": ("tab:green", "^"),
         "cooperative": ("tab:red", "D")}


def mean_curves(rows: list[dict]) -> dict[str, list[dict]]:
    """Per mode and round, the mean over folds of human labels, machine labels and UA (± std)."""
    out: dict[str, list[dict]] = {}
    for mode in MODES:
        rounds = sorted({r["round"] for r in rows if r["mode"] == mode})
        for k in rounds:
            at = [r for r in rows if r["mode"] == mode and r["round"] == k]
            ua = np.asarray([r["ua"] for r in at])
            out.setdefault(mode, []).append({
                "round": k, "folds": len(at), "human_labels": float(np.mean([r["human_labels"] for r in at])),
                "machine_labels": float(np.mean([r["machine_labels"] for r in at])),
                "ua": float(ua.mean()), "ua_std": float(ua.std())})
    return out


def gains_over_random(rows: list[dict]) -> dict[str, list[dict]]:
    """Per mode and round, the paired UA gain over random sampling: averaged over repeats within
    each protocol fold, then the mean over folds, its standard error and how many folds gain."""
    ua = {(r["fold"], r["seed"], r["mode"], r["round"]): r["ua"] for r in rows}
    runs = sorted({(r["fold"], r["seed"]) for r in rows})
    folds = sorted({f for f, _ in runs})
    out: dict[str, list[dict]] = {}
    for mode in [m for m in MODES[1:] if any(r["mode"] == m for r in rows)]:
        for k in sorted({r["round"] for r in rows if r["mode"] == mode}):
            per_fold = np.asarray([np.mean([ua[(f, s, mode, k)] - ua[(f, s, "random", k)] for g, s in runs
                                            if g == f and (f, s, "random", k) in ua and (f, s, mode, k) in ua])
                                   for f in folds])
            per_fold = per_fold[np.isfinite(per_fold)]
            if len(per_fold):
                out.setdefault(mode, []).append({
                    "round": k, "gain": float(per_fold.mean()), "folds_gaining": int((per_fold > 0).sum()),
                    "folds": len(per_fold), "se": float(per_fold.std(ddof=1) / np.sqrt(len(per_fold)))
                    if len(per_fold) > 1 else None})
    return out


def labels_to_reach(curves: dict[str, list[dict]], target: float) -> dict[str, Any]:
    """Per mode, the fewest mean human labels at which the mean UA reaches ``target`` (None: never)."""
    return {mode: next((p["human_labels"] for p in points if p["ua"] >= target - 1e-12), None)
            for mode, points in curves.items()}


def plot_curves(curves: dict[str, list[dict]], path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for mode, points in curves.items():
        x = [p["human_labels"] for p in points]
        y = np.asarray([p["ua"] for p in points]) * 100
        s = np.asarray([p["ua_std"] for p in points]) * 100 / np.sqrt(max(points[0]["folds"], 1))
        color, marker = STYLE[mode]
        ax.plot(x, y, marker=marker, color=color, label=mode.replace("_", "-"), markersize=4)
        ax.fill_between(x, y - s, y + s, color=color, alpha=0.12)
    ax.set_xlabel("human labels")
    ax.set_ylabel("test UA (%), mean over folds ± s.e.")
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path, tight=True)


class CooperativeCurves(Analyzer):
    """Writes what the strategy ``cooperative_learning`` recorded during ``sertk run`` (list this
    analyzer in the same recipe): ``curves.csv`` (per fold, mode and round), ``curves.json`` (means
    over folds, each mode's paired gain over random sampling per round, the human labels each mode
    needs to reach random sampling's final UA, and the test AUROC of each D4.2 §2.4 confidence
    measure), ``curves.png`` and ``queries.csv`` (every
    item asked: id, audio path, speaker, confidence, the model's guess, the held-back label)."""

    name = "cooperative_curves"
    summary = "learning curves, asked items and confidence AUROC of cooperative_learning (MixedEmotions D4.2 §2.3)"

    def analyze(self, run) -> dict[str, Any]:
        folds = {f.split("@r")[0] for f in run.folds}
        keys = sorted(k for k in RESULTS if k[0] in folds)
        if not keys:
            raise SertkError("cooperative_curves writes what the cooperative_learning strategy records while the run "
                             "trains; list it under analyzers in a recipe with that strategy (it cannot be rerun later "
                             "with sertk analyze)")
        found = [RESULTS.pop(k) for k in keys]
        out = run.analysis_dir(self.name)
        rows = [r for f in found for r in f["curve"]]
        write_csv(out / "curves.csv", rows)
        queries = [q for f in found for q in f["queries"]]
        if queries:
            write_csv(out / "queries.csv", queries)
        curves = mean_curves(rows)
        target = curves["random"][-1]["ua"] if "random" in curves else None
        confidence = {f"{k[0]}@seed{k[1]}": f["confidence"] for k, f in zip(keys, found)}
        measures = sorted({m for c in confidence.values() for m in c if m not in ("n_test", "errors")})
        summary = {
            "settings": found[0]["settings"], "folds": len(found), "curves": curves,
            "gain_over_random": gains_over_random(rows) if "random" in curves else None,
            "random_final_ua": target, "labels_to_reach_random_final_ua": labels_to_reach(curves, target)
            if target is not None else None,
            "confidence_auroc_mean": {m: float(np.nanmean([c.get(m, np.nan) for c in confidence.values()]))
                                      for m in measures},
            "confidence_auroc": confidence}
        write_json(out / "curves.json", summary)
        plot_curves(curves, out / "curves.png")
        return {k: summary[k] for k in ("folds", "random_final_ua", "labels_to_reach_random_final_ua",
                                        "confidence_auroc_mean")}
