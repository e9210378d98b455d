"""Late fusion of finished runs: their per-utterance test scores fused per fold.

The runs must share folds (names and test utterances). Scores that are not
probabilities (rows not non-negative summing to 1, e.g. linear_svm's vote scores)
become one by a softmax, which keeps each row's ranking.  ``mean`` averages the
members' distributions and uses no labels.  ``weighted`` takes given weights, or
for each test fold the weights (a grid of step 0.1 on the simplex) with the best
UA on the other folds' units.  ``stack`` trains, for each test fold, a balanced
multinomial logistic regression on the members' log-probabilities of the other
folds' units (cross-validated stacking).  No method sees the test fold's labels;
the other folds' predictions come from members whose training included the test
fold's speakers, as in any stacking over one set of cross-validation folds.
"""
from __future__ import annotations

import csv
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..atomic import write_json
from ..errors import SertkError
from ..interfaces import Head
from ..recipe import read_yaml
from .layout import RunLayout

METHODS = ("mean", "weighted", "stack")
GRID_STEP = 10  # weighted: weights in tenths
MAX_GRID_MEMBERS = 6


@dataclass
class FoldScores:
    """One member's test units of one fold and head: ids, speakers, true class indices, scores (N, C)."""

    ids: list[str]
    speakers: list[str]
    labels: np.ndarray
    scores: np.ndarray


@dataclass
class Member:
    """A finished run as fusion reads it."""

    dir: Path
    recipe: dict
    folds: list[str]
    heads: list[Head]
    units: dict[tuple[str, str], FoldScores]  # (fold, head) -> test units
    split: dict[str, dict[str, list[str]]]  # folds.json: protocol fold -> train/validation/test ids

    def train_ids(self, fold: str) -> list[str]:
        """The training utterances of a fold (of any repeat)."""
        return self.split[re.sub(r"@r\d+$", "", fold)]["train"]


def read_member(run_dir: str | Path) -> Member:
    """The folds, utterance-level classification heads and test scores of a finished run."""
    layout = RunLayout(Path(run_dir))
    layout.require((layout.recipe, layout.metrics, layout.predictions, layout.folds))
    metrics = layout.read_json(layout.metrics)
    split = layout.read_json(layout.folds)
    with layout.reading(layout.metrics):
        heads = [Head(name, "classification", tuple(h["classes"]), "utterance")
                 for name, h in metrics["heads"].items() if h["kind"] == "classification" and h["level"] == "utterance"]
        folds = [str(f) for f in metrics["folds"]]
    if not heads:
        raise SertkError(f"{layout.dir}: no utterance-level classification head to fuse")
    rows: dict[tuple[str, str], list[dict]] = {}
    with layout.reading(layout.predictions), open(layout.predictions, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault((row["fold"], row["head"]), []).append(row)
        units = {}
        for head in heads:
            index = {c: i for i, c in enumerate(head.classes)}
            for fold in folds:
                found = rows.get((fold, head.name), [])
                units[fold, head.name] = FoldScores(
                    [r["id"] for r in found], [r["speaker"] for r in found],
                    np.array([index[r["true"]] for r in found], dtype=int),
                    np.array([[float(r[f"score_{k}"]) for k in range(len(head.classes))] for r in found],
                             dtype=float).reshape(-1, len(head.classes)))
    member = Member(layout.dir, read_yaml(layout.recipe), folds, heads, units, split)
    with layout.reading(layout.folds):
        for f in folds:
            member.train_ids(f)
    return member


def check_members(members: Sequence[Member]) -> list[Head]:
    """The heads all members share; a user error naming the run and fold where folds differ."""
    first = members[0]
    heads = [h for h in first.heads if all(h in m.heads for m in members[1:])]
    if not heads:
        raise SertkError(f"{members[1].dir} and {first.dir} share no classification head with the same classes; "
                         f"fuse runs of the same corpus and labels")
    for m in members[1:]:
        if set(m.folds) != set(first.folds):
            odd = sorted(set(m.folds) ^ set(first.folds))[0]
            raise SertkError(f"{m.dir}: its folds differ from those of {first.dir} (fold '{odd}'); fuse runs made "
                             f"with the same corpus and protocol")
        for fold in first.folds:
            for h in heads:
                a, b = first.units[fold, h.name], m.units[fold, h.name]
                if sorted(a.ids) != sorted(b.ids):
                    odd = sorted(set(a.ids) ^ set(b.ids))[0]
                    raise SertkError(f"{m.dir}: fold '{fold}' tests other utterances than in {first.dir} "
                                     f"(e.g. '{odd}'); fuse runs made with the same corpus, protocol and folds")
    return heads


def distribution(scores: np.ndarray) -> np.ndarray:
    """Rows as probability distributions: probabilities as they are, other scores by a softmax."""
    scores = np.asarray(scores, dtype=float)
    if len(scores) == 0 or ((scores >= 0).all() and np.allclose(scores.sum(1), 1.0, atol=1e-4)):
        return scores
    e = np.exp(scores - scores.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def unweighted_accuracy(y: np.ndarray, p: np.ndarray, n_classes: int) -> float:
    """Mean recall over the classes present in ``y`` of the argmax of ``p``."""
    pred = p.argmax(-1)
    return float(np.mean([np.mean(pred[y == c] == c) for c in range(n_classes) if (y == c).any()]))


def weight_grid(n: int) -> np.ndarray:
    """Every weight vector of ``n`` members in tenths summing to 1, nearest to equal weights first."""
    if n > MAX_GRID_MEMBERS:
        raise SertkError(f"weighted fusion chooses weights for at most {MAX_GRID_MEMBERS} runs, got {n}; give "
                         f"--weights or use method stack")
    grid = np.array([c for c in itertools.product(range(GRID_STEP + 1), repeat=n) if sum(c) == GRID_STEP],
                    dtype=float) / GRID_STEP
    return grid[np.argsort(np.abs(grid - 1.0 / n).sum(1), kind="stable")]


def choose_weights(p: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """The grid weights with the best UA of the fused (members, N, C) distributions ``p``."""
    grid = weight_grid(len(p))
    fused = np.einsum("km,mnc->knc", grid, p)
    scores = [unweighted_accuracy(y, f, n_classes) for f in fused]
    return grid[int(np.argmax(scores))]


def stack(p_train: np.ndarray, y: np.ndarray, p_test: np.ndarray, n_classes: int) -> np.ndarray:
    """A balanced multinomial logistic regression on the members' log-probabilities."""
    from sklearn.linear_model import LogisticRegression

    def features(p):
        return np.log(np.clip(p, 1e-6, None)).transpose(1, 0, 2).reshape(p.shape[1], -1)

    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(features(p_train), y)
    out = np.zeros((p_test.shape[1], n_classes))
    out[:, model.classes_] = model.predict_proba(features(p_test))
    return out


def fuse_head(members: Sequence[Member], head: Head, method: str, weights: Optional[Sequence[float]] = None
              ) -> tuple[dict[str, FoldScores], dict[str, Any]]:
    """Fused test distributions of one head per fold, and what each fold used (weights)."""
    folds = members[0].folds
    ordered = {}
    for fold in folds:  # every member's units in the first member's order
        ref = members[0].units[fold, head.name]
        scores = []
        for m in members:
            own = m.units[fold, head.name]
            where = {uid: i for i, uid in enumerate(own.ids)}
            scores.append(distribution(own.scores)[[where[u] for u in ref.ids]])
        ordered[fold] = (ref, np.stack(scores))
    fused, used = {}, {}
    for fold in folds:
        ref, p = ordered[fold]
        test = set(ref.ids)
        others = [f for f in folds if f != fold and not test & set(ordered[f][0].ids)]
        if method in ("stack", "weighted") and weights is None and not others:
            raise SertkError(f"fusion method {method} learns from the other folds, but fold '{fold}' has none "
                             f"that is disjoint from it; use method mean or give weights")
        if method == "mean":
            out = p.mean(0)
        elif method == "weighted":
            w = np.asarray(weights, dtype=float) / np.sum(weights) if weights is not None else choose_weights(
                np.concatenate([ordered[f][1] for f in others], 1),
                np.concatenate([ordered[f][0].labels for f in others]), len(head.classes))
            out, used[fold] = np.einsum("m,mnc->nc", w, p), [float(v) for v in w]
        else:
            out = stack(np.concatenate([ordered[f][1] for f in others], 1),
                        np.concatenate([ordered[f][0].labels for f in others]), p, len(head.classes))
        fused[fold] = FoldScores(ref.ids, ref.speakers, ref.labels, out)
    return fused, used


def write_fused(layout: RunLayout, members: Sequence[Member], method: str, metric_specs: Sequence[dict], registry,
                weights: Optional[Sequence[float]] = None, seed: int = 0):
    """Fuse ``members`` into the run folder ``layout`` (reports by the run report writer and
    ``fusion.json`` naming the members); returns the run's results."""
    from .protocol_labels import fused_labels
    from .report import write_reports
    from .run import FoldOutcome, RunResult

    if method not in METHODS:
        raise SertkError(f"unknown fusion method '{method}' (valid: {', '.join(METHODS)})")
    if weights is not None and (len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0):
        raise SertkError(f"weights: need one weight >= 0 per run ({len(members)}), not all 0, got {list(weights)}")
    heads = check_members(members)
    per_head = {h.name: fuse_head(members, h, method, weights) for h in heads}
    labels = {}  # every known utterance label, for the folds' training class counts
    for h in heads:
        for fs in per_head[h.name][0].values():
            labels.update({(h.name, u): int(y) for u, y in zip(fs.ids, fs.labels)})
    outcomes = []
    for fold in members[0].folds:
        first = per_head[heads[0].name][0][fold]
        outcome = FoldOutcome(fold, first.ids, first.speakers, {}, {})
        for h in heads:
            fs = per_head[h.name][0][fold]
            outcome.outputs[h.name], outcome.targets[h.name] = fs.scores, fs.labels
            known = [labels[h.name, u] for u in members[0].train_ids(fold) if (h.name, u) in labels]
            outcome.train_counts[h.name] = np.bincount(known, minlength=len(h.classes)) if known else \
                np.bincount(fs.labels, minlength=len(h.classes))  # one fold: no training labels on record
        outcomes.append(outcome)
    metrics = [registry.build("metrics", m, f"metrics.{i}") for i, m in enumerate(metric_specs)]
    by_kind: dict[str, list] = {}
    for m in metrics:
        by_kind.setdefault(m.kind, []).append(m)
    write_json(layout.dir / "fusion.json", {"method": method, "members": [str(m.dir) for m in members],
                                            "weights": list(weights) if weights is not None else None,
                                            "fold_weights": {h: used for h, (_, used) in per_head.items() if used}})
    write_json(layout.folds, members[0].split)
    protocol = fused_labels([RunLayout(m.dir).read_json(RunLayout(m.dir).metrics).get("protocol") for m in members],
                            [m.dir.name for m in members])  # transductive when any member is
    summary = write_reports(layout, heads, outcomes, by_kind, seed=seed, protocol=protocol)
    return RunResult(layout.dir, heads, summary, outcomes)
