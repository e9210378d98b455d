"""Run a recipe end to end: data, folds, training, evaluation, reports, analyzers."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..atomic import atomic_path, write_json
from ..errors import ConfigError, SertkError
from ..interfaces import FeatureInfo, Fold, Head, LabelSpace
from ..progress import Progress, Silent
from ..recipe import Recipe, resolved
from ..registry import Registry
from .experiment import Data, class_counts, frame_targets, prepare_data, usable
from .rundir import create_run_dir, write_provenance

FOLDS_FILE = "folds.json"
DATA_FILE = "data.json"


@dataclass
class FoldOutcome:
    """Test predictions of one fold, per evaluation unit (utterance or segment)."""

    name: str
    unit_ids: list[str]
    speakers: list[str]
    outputs: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    history: Optional[dict] = None
    validation_score: Optional[float] = None
    train_counts: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class RunResult:
    """What a finished run produced."""

    dir: Path
    heads: list[Head]
    metrics: dict[str, Any]
    folds: list[FoldOutcome] = field(default_factory=list)

    @property
    def validation_score(self) -> Optional[float]:
        """Mean best validation score over folds (what tuning optimises)."""
        scores = [f.validation_score for f in self.folds if f.validation_score is not None]
        return float(np.mean(scores)) if scores else None


def build_model(recipe: Recipe, registry: Registry, inputs: dict[str, FeatureInfo], labels: LabelSpace, seed: int):
    """A fresh model for the given input streams and label space, seeded."""
    from .trainer import seed_everything

    seed_everything(seed)
    return registry.build("models", recipe.model, "model", inputs=inputs, labels=labels)


def build_losses(recipe: Recipe, registry: Registry, heads: Sequence[Head]) -> dict[str, Any]:
    """One loss per head; without a ``loss`` section, cross-entropy / CCC by head kind."""
    losses = {}
    for head in heads:
        spec = recipe.loss or {"name": "cross_entropy" if head.kind == "classification" else "ccc", "params": {}}
        loss = registry.build("losses", spec, "loss")
        if head.kind not in loss.kinds:
            raise ConfigError("loss.name", f"'{loss.name}' cannot train {head.kind} head '{head.name}'; "
                                           f"choose a loss for {head.kind}")
        losses[head.name] = loss
    return losses


def resolve_folds(recipe: Recipe, registry: Registry, data: Data, keep: list[int], heads: Sequence[Head],
                  inner: bool = True) -> list[Fold]:
    """The protocol's folds over the usable utterances; with ``inner``, folds without a
    validation part get one from their training part (stratified on the first
    categorical head's label)."""
    from .validation import inner_validation

    stratify = next((h.label_key for h in heads if h.kind == "classification" and h.level == "utterance"), None)
    protocol = registry.build("protocols", recipe.protocol, "protocol")
    subset = [data.utterances[i] for i in keep]
    folds = []
    for fold in protocol.folds(subset):
        if not fold.train or not fold.test:
            raise SertkError(f"protocol '{protocol.name}': fold '{fold.name}' has an empty "
                             f"{'training' if not fold.train else 'test'} set; check the protocol params")
        train, val = fold.train, fold.validation
        if not val and inner:
            train, val = inner_validation(subset, train, recipe.train.validation, recipe.train.seed, stratify)
        folds.append(Fold(fold.name, [keep[i] for i in train], [keep[i] for i in fold.test], [keep[i] for i in val]))
    return folds


def encoded_targets(data: Data, segments: Sequence[int], heads: Sequence[Head]) -> dict[str, list]:
    """Training targets per head for the given segments."""
    frame_keys = [k for k, i in data.info.items() if i.level == "frame"]
    out: dict[str, list] = {h.name: [] for h in heads}
    for s in segments:
        seg = data.extracted.segments[s]
        utt = data.utterances[seg.utt_index]
        for h in heads:
            if h.level == "frame":
                key = frame_keys[0]
                n = len(data.extracted.arrays[key][s])
                out[h.name].append(frame_targets(utt, h, n, data.info[key].frame_rate, seg.start_s))
            else:
                out[h.name].append(h.encode(utt.labels[h.label_key]))
    return out


def run_fold(recipe: Recipe, registry: Registry, data: Data, fold: Fold, heads: Sequence[Head],
             metrics_by_kind: dict[str, Any], progress: Progress, run_dir: Path) -> FoldOutcome:
    """Train on a fold's training part, choose by its validation part, predict its test part."""
    import pickle

    import torch

    from ..data.batching import SegmentDataset, make_loader
    from ..data.normalize import Normalizer
    from ..model import EstimatorModel
    from .scoring import aggregate_segments
    from .trainer import Trainer

    seg = {part: data.segments_of(getattr(fold, part)) for part in ("train", "validation", "test")}
    arrays = data.extracted.arrays
    speakers = [data.utterances[s.utt_index].speaker for s in data.extracted.segments]
    normalizer = Normalizer(data.normalize)
    normalizer.fit({k: [v[i] for i in seg["train"]] for k, v in arrays.items()},
                   speakers=[speakers[i] for i in seg["train"]])

    def part_arrays(part: str) -> dict[str, list[np.ndarray]]:
        idx = seg[part]
        return normalizer.transform({k: [v[i] for i in idx] for k, v in arrays.items()},
                                    speakers=[speakers[i] for i in idx])

    ids = {p: [data.extracted.segments[i].id for i in seg[p]] for p in seg}
    targets = {p: encoded_targets(data, seg[p], heads) for p in seg}
    model = build_model(recipe, registry, data.info, data.labels, recipe.train.seed)
    estimator = isinstance(model, EstimatorModel)
    losses = {} if estimator else build_losses(recipe, registry, heads)
    make = lambda p, shuffle: make_loader(SegmentDataset(ids[p], part_arrays(p), targets[p]),  # noqa: E731
                                          recipe.train.batch_size, shuffle, recipe.train.seed)
    select_metric = _selection_metric(recipe, heads, metrics_by_kind)
    trainer = Trainer(recipe.train, progress)
    val_loader = make("validation", False) if seg["validation"] and not estimator else None
    history = trainer.fit(model, losses, make("train", True), val_loader,
                          select=lambda pred: _score_predictions(pred, heads, select_metric),
                          greater_is_better=select_metric.greater_is_better, description=f"Fold {fold.name}",
                          train_targets={h: np.concatenate([np.atleast_1d(v) for v in values])
                                         for h, values in targets["train"].items()})
    seg_outputs = trainer.predict(model, make("test", False)).outputs
    fold_dir = run_dir / "folds" / fold.name
    with atomic_path(fold_dir / ("model.pkl" if estimator else "model.pt")) as tmp:
        if estimator:
            tmp.write_bytes(pickle.dumps(model))
        else:
            torch.save(model.state_dict(), tmp)
    val_score = history.val_score[history.best_epoch - 1] if val_loader is not None and history.best_epoch else None
    normalizer.save(fold_dir / "normalizer.npz")

    test_segments = [data.extracted.segments[i] for i in seg["test"]]
    if recipe.data.aggregate == "mean" and all(h.level == "utterance" for h in heads):
        utt_index = [s.utt_index for s in test_segments]
        outputs = {}
        for name, values in seg_outputs.items():
            units, outputs[name] = aggregate_segments(utt_index, values)
        unit_ids = [data.utterances[u].id for u in units]
        unit_speakers = [data.utterances[u].speaker for u in units]
        unit_targets = {h.name: np.asarray([h.encode(data.utterances[u].labels[h.label_key]) for u in units])
                        for h in heads}
    else:
        outputs, unit_ids = seg_outputs, ids["test"]
        unit_speakers = [data.utterances[s.utt_index].speaker for s in test_segments]
        unit_targets = {h: _as_array(v) for h, v in targets["test"].items()}
    train_counts = {h.name: np.bincount(np.asarray(targets["train"][h.name], dtype=int), minlength=len(h.classes))
                    for h in heads if h.kind == "classification" and h.level == "utterance"}
    return FoldOutcome(fold.name, unit_ids, unit_speakers, outputs, unit_targets,
                       None if estimator else history.to_dict(), val_score, train_counts)


def _as_array(values: list) -> np.ndarray:
    try:
        return np.asarray(values)
    except ValueError:
        return np.asarray(values, dtype=object)


def _selection_metric(recipe: Recipe, heads: Sequence[Head], metrics_by_kind: dict[str, list]):
    """The metric early stopping (and tuning) follows."""
    name = recipe.train.early_stopping.metric
    kinds = {h.kind for h in heads}
    candidates = [m for k in kinds for m in metrics_by_kind.get(k, [])]
    for m in candidates:
        if name is None or m.name == name:
            return m
    raise ConfigError("train.early_stopping.metric", f"'{name}' does not apply to this model's "
                                                     f"{'/'.join(sorted(kinds))} heads")


def _score_predictions(pred, heads: Sequence[Head], metric) -> float:
    """Mean of ``metric`` over the heads it applies to."""
    from .scoring import score_predictions

    scores = score_predictions(pred, [h for h in heads if h.kind == metric.kind], [metric])
    return float(np.mean([s[metric.name] for s in scores.values()]))


def run_recipe(recipe: Recipe, registry: Registry, plugins: Sequence = (), progress: Progress = Silent(),
               out_dir: Optional[str] = None) -> RunResult:
    """Everything ``sertk run`` does, returning the results and the run directory."""
    from ..model import EstimatorModel
    from .report import fold_line, write_reports

    run_dir = create_run_dir(out_dir or recipe.output.dir, recipe.output.name, recipe.stem)
    write_provenance(run_dir, resolved(recipe), recipe.source, plugins, recipe.train.seed)
    progress.log(f"run directory: {run_dir}")
    data = prepare_data(recipe, registry, progress)
    probe = build_model(recipe, registry, data.info, data.labels, recipe.train.seed)
    heads = list(probe.heads)
    keep = usable(data.utterances, heads)
    dropped = len(data.utterances) - len(keep)
    if dropped:
        progress.log(f"{dropped} utterances lack a label for heads {[h.name for h in heads]} and are left out")
    if not keep:
        raise SertkError(f"no utterance has labels for the model's heads {[h.label_key for h in heads]}")
    for h in heads:
        if h.kind == "classification":
            counts = class_counts([data.utterances[i] for i in keep], h)
            progress.log(f"{h.name}: " + ", ".join(f"{c} {n}" for c, n in counts.items()))
    folds = resolve_folds(recipe, registry, data, keep, heads, inner=not isinstance(probe, EstimatorModel))
    write_json(run_dir / FOLDS_FILE, {f.name: {p: [data.utterances[i].id for i in getattr(f, p)]
                                               for p in ("train", "validation", "test")} for f in folds})
    write_json(run_dir / DATA_FILE, {"labels": dataclasses.asdict(data.labels),
                                     "inputs": {k: dataclasses.asdict(v) for k, v in data.info.items()},
                                     "heads": [dataclasses.asdict(h) for h in heads]})
    metrics = [registry.build("metrics", m, f"metrics.{i}") for i, m in enumerate(recipe.metrics)]
    by_kind: dict[str, list] = {}
    for m in metrics:
        by_kind.setdefault(m.kind, []).append(m)
    outcomes = []
    with progress.task("Folds", total=len(folds)) as task:
        for fold in folds:
            started = time.monotonic()
            outcomes.append(run_fold(recipe, registry, data, fold, heads, by_kind, progress, run_dir))
            progress.log(f"{fold_line(outcomes[-1], heads, by_kind)} ({time.monotonic() - started:.0f} s)")
            task.advance()
    summary = write_reports(run_dir, heads, outcomes, by_kind, seed=recipe.train.seed)
    result = RunResult(run_dir, heads, summary, outcomes)
    run_analyzers(recipe, registry, run_dir, progress)
    return result


def run_analyzers(recipe: Recipe, registry: Registry, run_dir: Path, progress: Progress) -> dict[str, Any]:
    """The recipe's ``analyzers`` on the finished run."""
    if not recipe.analyzers:
        return {}
    from .trained import TrainedRun

    trained = TrainedRun(run_dir, registry, progress)
    return {spec["name"]: trained.analyze(spec, f"analyzers.{i}") for i, spec in enumerate(recipe.analyzers)}
