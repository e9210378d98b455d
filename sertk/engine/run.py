"""Run a recipe end to end: data, folds, training (per repeat and fold), evaluation, reports."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..atomic import atomic_path, safe_name, write_json, write_text
from ..data.targets import present, segment_target
from ..errors import SertkError
from ..interfaces import Fold, Head
from ..progress import Progress, Silent
from ..recipe import Recipe, resolved
from ..registry import Registry
from .components import build_model
from .experiment import (Data, class_counts, expected_counts, feature_cache, label_counts, load_utterances,
                         prepare_data, usable)
from .layout import RunLayout, fold_name
from .parallel import Drawing, ForkedPool, InProcess
from .preflight import preflight
from .rundir import create_run_dir, write_provenance
from .scoring import aggregate_segments
from .session import FitSession  # (imported before fold workers fork, so each need not)


@dataclass
class FoldOutcome:
    """Test predictions of one fold (of one repeat), per evaluation unit (utterance or segment).

    Frame-level heads keep their padded outputs with ``masks`` (valid label
    frames) and the label frame ``times``; sequence heads hold token arrays.
    """

    name: str
    unit_ids: list[str]
    speakers: list[str]
    outputs: dict[str, np.ndarray]
    targets: dict[str, np.ndarray]
    history: Optional[dict] = None
    validation_score: Optional[float] = None
    train_counts: dict[str, np.ndarray] = field(default_factory=dict)
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    times: dict[str, list[np.ndarray]] = field(default_factory=dict)
    repeat: int = 0


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


def resolve_folds(recipe: Recipe, registry: Registry, data: Data, keep: list[int], heads: Sequence[Head],
                  inner: bool = True) -> list[Fold]:
    """The protocol's folds over the usable utterances; with ``inner``, folds without a
    validation part get one from their training part (stratified on the first
    categorical head's label)."""
    from .validation import inner_validation

    stratify = next((h.label_key for h in heads if h.kind == "classification" and h.level == "utterance"), None)
    protocol = registry.build("protocols", recipe.protocol, "protocol")
    subset = [data.utterances[i] for i in keep]
    folds, folders = [], {}
    for fold in protocol.folds(subset):
        other = folders.setdefault(safe_name(fold.name), fold.name)  # fold folders are named after the folds
        if other != fold.name:
            raise SertkError(f"folds '{other}' and '{fold.name}' would share the folder folds/{safe_name(fold.name)}; "
                             f"rename one of these speakers or groups in the corpus")
        if not fold.train or not fold.test:
            raise SertkError(f"protocol '{protocol.name}': fold '{fold.name}' has an empty "
                             f"{'training' if not fold.train else 'test'} set; check the protocol params")
        train, val = fold.train, fold.validation
        if not val and inner:
            train, val = inner_validation(subset, train, recipe.train.validation, recipe.train.seed, stratify,
                                         fold.test)
        folds.append(Fold(fold.name, [keep[i] for i in train], [keep[i] for i in fold.test], [keep[i] for i in val]))
    return folds


def save_model(layout: RunLayout, fold: str, model) -> None:
    """A fold's trained model: a state dict for networks, named arrays for estimators."""
    from ..estimator import EstimatorModel

    if isinstance(model, EstimatorModel):
        with atomic_path(layout.estimator(fold)) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **model.state())
        return
    import torch

    with atomic_path(layout.model(fold)) as tmp:
        torch.save(model.state_dict(), tmp)


def run_fold(recipe: Recipe, registry: Registry, data: Data, fold: Fold, heads: Sequence[Head],
             metrics_by_kind: dict[str, Any], progress: Progress, layout: RunLayout, repeat: int = 0,
             name: Optional[str] = None) -> FoldOutcome:
    """Train a fold's model with the recipe's strategy and predict its test part."""
    name = name or fold.name
    train = dataclasses.replace(recipe.train, seed=recipe.train.seed + repeat)
    session = FitSession(recipe, registry, data, fold, heads, metrics_by_kind, progress, train)
    strategy = registry.build("strategies", recipe.strategy, "strategy")
    model = strategy.fit(session)
    history = session.history
    save_model(layout, name, model)
    session.normalizer.save(layout.normalizer(name))
    predicted = session.predict(model, session.test)

    segments = [data.extracted.segments[i] for i in session.test.segments]
    outcome = FoldOutcome(name, predicted.ids, [data.utterances[s.utt_index].speaker for s in segments],
                          predicted.outputs, predicted.targets, history.to_dict() if history and history.epochs
                          else None, history.best_score if history else None, masks=predicted.masks, repeat=repeat)
    outcome.times = {h.name: [t.times for t in session.test.targets[h.name]] for h in heads
                     if h.level == "frame" and h.kind != "sequence"}
    if recipe.data.segment.policy == "whole":  # one segment per recording: name units by recording
        outcome.unit_ids = [data.utterances[s.utt_index].id for s in segments]
    if recipe.data.aggregate == "mean" and all(h.level == "utterance" for h in heads):
        units, unit_outputs = None, {}
        for head, values in predicted.outputs.items():
            units, unit_outputs[head] = aggregate_segments([s.utt_index for s in segments], values)
        outcome.unit_ids = [data.utterances[u].id for u in units]
        outcome.speakers = [data.utterances[u].speaker for u in units]
        outcome.outputs = unit_outputs
        outcome.targets = {h.name: np.asarray([segment_target(data.utterances[u], h, 0.0, float("inf")) for u in units])
                           for h in heads}
    outcome.train_counts = {}
    for h in heads:
        if h.kind == "classification" and h.level == "utterance":
            targets = np.asarray(session.train.targets[h.name], dtype=int)
            outcome.train_counts[h.name] = np.bincount(targets[present(h, targets)], minlength=len(h.classes))
    return outcome


def fold_jobs(recipe: Recipe, model, world, tasks: int, progress: Progress) -> int:
    """How many folds train at once: ``train.jobs``, but one at a time under torchrun or on a GPU."""
    from ..estimator import EstimatorModel

    jobs = min(recipe.train.jobs, tasks)
    if jobs > 1 and world is not None:
        progress.log("note: train.jobs is ignored under torchrun; the ranks share each fold instead")
        return 1
    if jobs > 1 and not isinstance(model, EstimatorModel):
        from .trainer import resolve_device

        if resolve_device(recipe.train.device).type != "cpu":
            progress.log(f"note: train.jobs runs folds in CPU processes; on {recipe.train.device} they train "
                         f"one at a time")
            return 1
    return jobs


def run_recipe(recipe: Recipe, registry: Registry, plugins: Sequence = (), progress: Progress = Silent(),
               out_dir: Optional[str] = None, drawing: Optional[Drawing] = None) -> RunResult:
    """Everything ``sertk run`` does, returning the results and the run directory; the
    report's figures are drawn in ``drawing`` (:func:`~sertk.engine.parallel.drawing_process`)
    when given, else in processes forked at the end.

    Under ``torchrun`` every rank runs this (:mod:`sertk.engine.distributed`): rank 0
    extracts features first and writes the run directory; the others work in a
    temporary one, removed at the end, and return no metrics.
    """
    from ..estimator import EstimatorModel
    from . import distributed
    from .protocol_labels import protocol_labels
    from .report import fold_line, write_reports
    from .report_html import write_run_report
    from .trained import run_analyzers

    if recipe.fusion is not None:  # several systems, then their late fusion
        from .fusion_run import run_fusion

        return run_fusion(recipe, registry, plugins, progress, out_dir)
    world = distributed.init(recipe.train.device)
    if world is None or world.main:
        layout = RunLayout(create_run_dir(out_dir or recipe.output.dir, recipe.output.name, recipe.stem))
    else:
        import atexit
        import shutil
        import tempfile

        layout = RunLayout(Path(tempfile.mkdtemp(prefix=f"sertk-rank{world.rank}-")))
        atexit.register(shutil.rmtree, layout.dir, ignore_errors=True)  # when the run fails too
    write_text(layout.unfinished, "this run has not finished: it was interrupted, failed or is still running\n")
    write_provenance(layout, resolved(recipe), recipe.source, plugins, recipe.train.seed)
    progress.log(f"run directory: {layout.dir}")
    with distributed.main_first():  # the other ranks then read the filled feature cache
        utterances = load_utterances(recipe, registry, progress)
        features = preflight(recipe, registry, utterances)
        if distributed.is_main():
            feature_cache(recipe).sweep()
        data = prepare_data(recipe, registry, progress, utterances, features)
    probe = build_model(recipe, registry, data.info, data.labels, recipe.train.seed)
    if world is not None and isinstance(probe, EstimatorModel):
        progress.log(f"note: {type(probe).__name__} is fitted in one call, not data-parallel: each of the "
                     f"{world.size} torchrun processes fits the same model; run it without torchrun")
    heads = list(probe.heads)
    keep = usable(data.utterances, heads, recipe.data.missing_labels)
    dropped = len(data.utterances) - len(keep)
    if dropped:
        progress.log(f"{dropped} utterances lack a target for {'any' if recipe.data.missing_labels == 'mask' else 'every'}"
                     f" head of {[h.name for h in heads]}; they are left out of the folds (a training strategy may "
                     f"use them as unlabelled audio)")
    if recipe.data.missing_labels == "mask":
        counts = label_counts([data.utterances[i] for i in keep], heads)
        progress.log("labels per head (data.missing_labels: mask): " + ", ".join(f"{h} {n}/{len(keep)}"
                                                                                   for h, n in counts.items()))
    if not keep:
        raise SertkError(f"no utterance has targets for the model's heads {[h.label_key for h in heads]}")
    expected = expected_counts(recipe.data.expect, {"utterances": len(keep), "segments": len(data.segments_of(keep))})
    for what, c in expected.items():
        progress.log(f"{c['found']} {what} " + ("as the source reports" if c["held"] else
                                                f"where the source reports {c['expected']}"))
    for h in heads:
        if h.kind == "classification" and h.level == "utterance":
            counts = class_counts([data.utterances[i] for i in keep], h)
            progress.log(f"{h.name}: " + ", ".join(f"{c} {n}" for c, n in counts.items()))
    folds = resolve_folds(recipe, registry, data, keep, heads, inner=not isinstance(probe, EstimatorModel))
    write_json(layout.folds, {f.name: {p: [data.utterances[i].id for i in getattr(f, p)]
                                       for p in ("train", "validation", "test")} for f in folds})
    write_json(layout.data, {"labels": data.labels.plain(),
                             "inputs": {k: dataclasses.asdict(v) for k, v in data.info.items()},
                             "heads": [dataclasses.asdict(h) for h in heads],
                             "repeats": recipe.train.repeats, "expected_counts": expected})
    metrics = [registry.build("metrics", m, f"metrics.{i}") for i, m in enumerate(recipe.metrics)]
    by_kind: dict[str, list] = {}
    for m in metrics:
        by_kind.setdefault(m.kind, []).append(m)
    repeats = recipe.train.repeats
    tasks = [(r, fold) for r in range(repeats) for fold in folds]
    jobs = fold_jobs(recipe, probe, world, len(tasks), progress)
    each = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, threads=1)) if jobs > 1 else recipe

    def train(i: int, log: Progress) -> tuple[FoldOutcome, float]:
        r, fold = tasks[i]
        started = time.monotonic()
        outcome = run_fold(each, registry, data, fold, heads, by_kind, log, layout, r, fold_name(fold.name, r, repeats))
        return outcome, time.monotonic() - started

    outcomes: list[FoldOutcome] = [None] * len(tasks)  # type: ignore[list-item]
    with ForkedPool(train, jobs) if jobs > 1 else InProcess(train, progress) as pool:
        with progress.task("Folds", total=len(tasks)) as task:
            for i, (outcome, seconds), lines in pool.results(len(tasks)):
                for line in lines:
                    progress.log(line)
                progress.log(f"{fold_line(outcome, heads, by_kind)} ({seconds:.0f} s)")
                outcomes[i] = outcome
                task.advance()
    if world is not None and not world.main:
        import shutil

        shutil.rmtree(layout.dir, ignore_errors=True)
        return RunResult(layout.dir, heads, {}, outcomes)
    summary = write_reports(layout, heads, outcomes, by_kind, seed=recipe.train.seed,
                            protocol=protocol_labels(resolved(recipe), registry), drawing=drawing)
    result = RunResult(layout.dir, heads, summary, outcomes)
    layout.unfinished.unlink()
    run_analyzers(recipe, registry, layout.dir, progress)
    progress.log(f"report: {write_run_report(layout.dir)}")
    return result

