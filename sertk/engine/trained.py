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
from .experiment import Data, prepare_data
from .rundir import RECIPE_FILE, require_run_files
from .run import DATA_FILE, FOLDS_FILE, build_model, encoded_targets


class TrainedRun:
    """Models, data and folds of a run directory written by ``sertk run``."""

    def __init__(self, run_dir: Path, registry: Registry, progress: Progress = Silent()):
        self.dir = Path(run_dir)
        require_run_files(self.dir, (RECIPE_FILE, FOLDS_FILE, DATA_FILE))
        self.registry, self.progress = registry, progress
        self.recipe = parse_recipe(read_yaml(self.dir / RECIPE_FILE), str(self.dir / RECIPE_FILE), registry)
        self.fold_ids: dict[str, dict[str, list[str]]] = json.loads((self.dir / FOLDS_FILE).read_text())
        saved = json.loads((self.dir / DATA_FILE).read_text())
        self.heads = [Head(**{**h, "classes": tuple(h["classes"])}) for h in saved["heads"]]
        self.inputs = {k: FeatureInfo(**v) for k, v in saved["inputs"].items()}
        self.labels = LabelSpace({k: tuple(v) for k, v in saved["labels"]["classes"].items()},
                                 tuple(saved["labels"]["dimensions"]), tuple(saved["labels"]["contours"]))

    @property
    def folds(self) -> list[str]:
        return list(self.fold_ids)

    @property
    def sample_rate(self) -> int:
        return self.recipe.data.sample_rate

    @functools.cached_property
    def data(self) -> Data:
        """The run's utterances and features (served from the feature cache)."""
        return prepare_data(self.recipe, self.registry, self.progress)

    def _fold(self, fold: str) -> dict[str, list[str]]:
        if fold not in self.fold_ids:
            raise SertkError(f"{self.dir}: no fold '{fold}' (folds: {', '.join(self.fold_ids)})")
        return self.fold_ids[fold]

    def model(self, fold: str):
        """The fold's trained model, in evaluation mode on the CPU."""
        import torch

        self._fold(fold)
        folder = self.dir / "folds" / fold
        if (folder / "model.pkl").is_file():
            return pickle.loads((folder / "model.pkl").read_bytes())
        model = build_model(self.recipe, self.registry, self.inputs, self.labels, self.recipe.train.seed)
        model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu"))
        return model.eval()

    def segments(self, fold: str, split: str = "test") -> list[int]:
        """Segment indices of a fold's split (train, validation or test)."""
        ids = set(self._fold(fold)[split])
        utts = [i for i, u in enumerate(self.data.utterances) if u.id in ids]
        return self.data.segments_of(utts)

    def _loader(self, fold: str, data: Data, seg: Sequence[int], batch_size: int, with_targets: bool):
        from ..data.batching import SegmentDataset, make_loader
        from ..data.normalize import Normalizer

        normalizer = Normalizer.load(self.dir / "folds" / fold / "normalizer.npz")
        speakers = [data.utterances[data.extracted.segments[i].utt_index].speaker for i in seg]
        arrays = normalizer.transform({k: [v[i] for i in seg] for k, v in data.extracted.arrays.items()},
                                      speakers=speakers)
        ids = [data.extracted.segments[i].id for i in seg]
        targets = encoded_targets(data, seg, self.heads) if with_targets else {}
        return make_loader(SegmentDataset(ids, arrays, targets), batch_size, False, 0)

    def batches(self, fold: str, split: str = "test", batch_size: int = 8) -> Iterator:
        """Normalised input batches of a fold's split, as its model saw them."""
        return iter(self._loader(fold, self.data, self.segments(fold, split), batch_size, True))

    def predict(self, paths: Sequence[str], batch_size: int = 16) -> dict[str, dict[str, np.ndarray]]:
        """Outputs for new recordings: per file and head, segment outputs averaged, then
        averaged over the models of every fold (class probabilities or values)."""
        from .scoring import aggregate_segments
        from .trainer import Trainer

        utterances = [Utterance(id=str(p), speaker=str(p), path=str(p)) for p in paths]
        data = prepare_data(self.recipe, self.registry, self.progress, utterances=utterances)
        seg = list(range(len(data.extracted.segments)))
        owner = [s.utt_index for s in data.extracted.segments]
        trainer = Trainer(self.recipe.train)
        totals: dict[str, np.ndarray] = {}
        with self.progress.task("Predicting", total=len(self.folds)) as task:
            for fold in self.folds:
                outputs = trainer.predict(self.model(fold), self._loader(fold, data, seg, batch_size, False)).outputs
                for head, values in outputs.items():
                    _, per_utt = aggregate_segments(owner, values)
                    totals[head] = totals.get(head, 0) + per_utt / len(self.folds)
                task.advance()
        return {u.id: {h: totals[h][i] for h in totals} for i, u in enumerate(utterances)}

    def analysis_dir(self, name: str) -> Path:
        path = self.dir / "analysis" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def analyze(self, spec: Any, key: str = "analyzer") -> dict[str, Any]:
        """Build one analyzer from ``{name, params}`` and run it; its summary is saved as JSON."""
        analyzer = self.registry.build("analyzers", spec, key)
        summary = analyzer.analyze(self) or {}
        write_json(self.analysis_dir(analyzer.name) / "summary.json", summary)
        return summary
