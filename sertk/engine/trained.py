"""A finished run, reopened from its directory for analysis and prediction."""
from __future__ import annotations

import functools
import json
import pickle
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..atomic import write_json
from ..errors import SertkError
from ..interfaces import FeatureInfo, Head, LabelSpace, Utterance
from ..progress import Progress, Silent
from ..recipe import parse_recipe, read_yaml
from ..registry import Registry
from .components import build_model
from .experiment import Data, prepare_data
from .layout import RunLayout, fold_name


class TrainedRun:
    """Models, data and folds of a run directory written by ``sertk run``."""

    def __init__(self, run_dir: Path, registry: Registry, progress: Progress = Silent()):
        self.layout = RunLayout(run_dir)
        self.dir = self.layout.dir
        self.layout.require((self.layout.recipe, self.layout.folds, self.layout.data))
        self.registry, self.progress = registry, progress
        self.recipe = parse_recipe(read_yaml(self.layout.recipe), str(self.layout.recipe), registry)
        self.fold_ids: dict[str, dict[str, list[str]]] = json.loads(self.layout.folds.read_text())
        saved = json.loads(self.layout.data.read_text())
        self.heads = [Head(**{**h, "classes": tuple(h["classes"])}) for h in saved["heads"]]
        self.inputs = {k: FeatureInfo(**v) for k, v in saved["inputs"].items()}
        labels = saved["labels"]
        self.labels = LabelSpace({k: tuple(v) for k, v in labels["classes"].items()}, tuple(labels["dimensions"]),
                                 tuple(labels["contours"]), {k: tuple(v) for k, v in labels.get("sequences", {}).items()},
                                 labels.get("default_target"))
        repeats = int(saved.get("repeats", 1))
        # fold model name (every repeat's, as in ``folds/``) -> protocol fold
        self._protocol_fold = {fold_name(f, r, repeats): f for r in range(repeats) for f in self.fold_ids}

    @property
    def folds(self) -> list[str]:
        """The fold models of the run (every repeat's, named as in ``folds/``)."""
        return list(self._protocol_fold)

    @property
    def sample_rate(self) -> int:
        return self.recipe.data.sample_rate

    @functools.cached_property
    def data(self) -> Data:
        """The run's utterances and features (served from the feature cache)."""
        return prepare_data(self.recipe, self.registry, self.progress)

    def _fold(self, fold: str) -> dict[str, list[str]]:
        if fold not in self._protocol_fold:
            raise SertkError(f"{self.dir}: no fold '{fold}' (folds: {', '.join(self.folds)})")
        return self.fold_ids[self._protocol_fold[fold]]

    def model(self, fold: str):
        """The fold's trained model, in evaluation mode on the CPU."""
        import torch

        self._fold(fold)
        if self.layout.estimator(fold).is_file():
            return pickle.loads(self.layout.estimator(fold).read_bytes())
        model = build_model(self.recipe, self.registry, self.inputs, self.labels, self.recipe.train.seed)
        model.load_state_dict(torch.load(self.layout.model(fold), map_location="cpu", weights_only=True))
        return model.eval()

    def segments(self, fold: str, split: str = "test") -> list[int]:
        """Segment indices of a fold's split (train, validation or test)."""
        ids = set(self._fold(fold)[split])
        utts = [i for i, u in enumerate(self.data.utterances) if u.id in ids]
        return self.data.segments_of(utts)

    def _loader(self, fold: str, data: Data, seg: Sequence[int], batch_size: int, with_targets: bool):
        from ..data.batching import SegmentDataset, make_loader
        from ..data.normalize import Normalizer
        from .session import encode_part

        normalizer = Normalizer.load(self.layout.normalizer(fold))
        segments = [data.extracted.segments[i] for i in seg]
        speakers = [data.utterances[s.utt_index].speaker for s in segments]
        arrays = normalizer.transform({k: [v[i] for i in seg] for k, v in data.extracted.arrays.items()},
                                      speakers=speakers)
        targets = encode_part(data, seg, self.heads).targets if with_targets else {}
        return make_loader(SegmentDataset([s.id for s in segments], arrays, targets,
                                          [s.end_s - s.start_s for s in segments]), batch_size, False, 0)

    def batches(self, fold: str, split: str = "test", batch_size: int = 8) -> Iterator:
        """Normalised input batches of a fold's split, as its model saw them."""
        return iter(self._loader(fold, self.data, self.segments(fold, split), batch_size, True))

    def predict(self, paths: Sequence[str], batch_size: int = 16) -> dict[str, dict[str, np.ndarray]]:
        """Outputs of the utterance-level heads for new recordings: per file and head,
        segment outputs averaged, then averaged over the models of every fold (class
        probabilities or values)."""
        from .scoring import aggregate_segments
        from .trainer import Trainer

        utterances = [Utterance(id=str(p), speaker=str(p), path=str(p)) for p in paths]
        data = prepare_data(self.recipe, self.registry, self.progress, utterances=utterances)
        seg = list(range(len(data.extracted.segments)))
        owner = [s.utt_index for s in data.extracted.segments]
        trainer = Trainer(self.recipe.train)
        utterance_heads = {h.name for h in self.heads if h.level == "utterance"}
        if not utterance_heads:
            raise SertkError(f"{self.dir}: the model has only frame-level heads; sertk predict averages "
                             f"utterance-level heads only")
        totals: dict[str, np.ndarray] = {}
        with self.progress.task("Predicting", total=len(self.folds)) as task:
            for fold in self.folds:
                outputs = trainer.predict(self.model(fold), self._loader(fold, data, seg, batch_size, False)).outputs
                for head, values in outputs.items():
                    if head not in utterance_heads:
                        continue
                    _, per_utt = aggregate_segments(owner, values)
                    totals[head] = totals.get(head, 0) + per_utt / len(self.folds)
                task.advance()
        return {u.id: {h: totals[h][i] for h in totals} for i, u in enumerate(utterances)}

    def analysis_dir(self, name: str) -> Path:
        """The folder an analyzer writes into (created)."""
        return self.layout.analysis(name)

    def analyze(self, spec: Any, key: str = "analyzer") -> dict[str, Any]:
        """Build one analyzer from ``{name, params}`` and run it; its summary is saved as JSON."""
        analyzer = self.registry.build("analyzers", spec, key)
        summary = analyzer.analyze(self) or {}
        write_json(self.analysis_dir(analyzer.name) / "summary.json", summary)
        return summary


def run_analyzers(recipe, registry: Registry, run_dir: Path, progress: Progress) -> dict[str, Any]:
    """The recipe's ``analyzers`` on the finished run."""
    if not recipe.analyzers:
        return {}
    trained = TrainedRun(run_dir, registry, progress)
    return {spec["name"]: trained.analyze(spec, f"analyzers.{i}") for i, spec in enumerate(recipe.analyzers)}
