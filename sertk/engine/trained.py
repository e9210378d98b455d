"""A finished run, reopened from its directory for analysis and prediction."""
from __future__ import annotations

import functools
import pickle
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import numpy as np

from ..atomic import write_json
from ..errors import SertkError
from ..interfaces import FeatureInfo, Head, LabelSpace
from ..progress import Progress, Silent
from ..recipe import parse_recipe, read_yaml
from ..registry import Registry
from .components import build_model
from .experiment import Data, prepare_data
from .layout import RunLayout, fold_name


class FoldModels:
    """The fold models of a finished run or of an exported bundle, and what predicting with
    them needs: the resolved recipe, heads, input streams, label space and normalisers.
    ``folder`` holds ``recipe.yaml``, ``data.json`` and ``folds/<fold>/`` as a run does."""

    def __init__(self, folder: Path, fold_names: Sequence[str], registry: Registry, progress: Progress = Silent()):
        self.layout = RunLayout(folder)
        self.dir = self.layout.dir
        self.registry, self.progress = registry, progress
        self.recipe = parse_recipe(read_yaml(self.layout.recipe), str(self.layout.recipe), registry)
        saved = self.layout.read_json(self.layout.data)
        with self.layout.reading(self.layout.data):
            self.heads = [Head(**{**h, "classes": tuple(h["classes"])}) for h in saved["heads"]]
            self.inputs = {k: FeatureInfo(**v) for k, v in saved["inputs"].items()}
            labels = saved["labels"]
            self.labels = LabelSpace({k: tuple(v) for k, v in labels["classes"].items()},
                                     tuple(labels["dimensions"]), tuple(labels["contours"]),
                                     {k: tuple(v) for k, v in labels.get("sequences", {}).items()},
                                     labels.get("default_target"))
        self._fold_names = list(fold_names)

    @property
    def folds(self) -> list[str]:
        """The fold models (every repeat's, named as in ``folds/``)."""
        return list(self._fold_names)

    @property
    def sample_rate(self) -> int:
        return self.recipe.data.sample_rate

    def _fold(self, fold: str) -> None:
        if fold not in self._fold_names:
            raise SertkError(f"{self.dir}: no fold '{fold}' (folds: {', '.join(self.folds)})")

    def model(self, fold: str):
        """The fold's trained model, in evaluation mode on the CPU (weights-only loading: a
        state dict of tensors, or plain arrays for estimators; never a pickle)."""
        self._fold(fold)
        model = build_model(self.recipe, self.registry, self.inputs, self.labels, self.recipe.train.seed)
        if self.layout.estimator(fold).is_file():
            try:
                with np.load(self.layout.estimator(fold), allow_pickle=False) as stored:
                    model.load_state({k: stored[k] for k in stored.files})
            except (OSError, ValueError, KeyError) as why:
                raise SertkError(f"{self.layout.estimator(fold)} is damaged ({why}); run the recipe again") from None
            return model
        import torch

        path = self.layout.model(fold)
        try:
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except (OSError, EOFError, RuntimeError, ValueError, pickle.UnpicklingError) as why:
            reason = str(why).strip().splitlines()[0] if str(why).strip() else type(why).__name__
            raise SertkError(f"{path} cannot be loaded as this run's model ({reason}); run the recipe again") from None
        return model.eval()

    def normalizer(self, fold: str):
        """The fold's normalisation statistics (arrays only)."""
        from ..data.normalize import Normalizer

        path = self.layout.normalizer(fold)
        try:
            return Normalizer.load(path)
        except (OSError, ValueError, KeyError) as why:
            raise SertkError(f"{path} is damaged ({str(why)[:120]}); run the recipe again") from None

    def predict(self, paths: Sequence[str], batch_size: int = 16,
                device: Optional[str] = None) -> dict[str, dict[str, np.ndarray]]:
        """Outputs of the utterance-level heads for new recordings: per file and head,
        segment outputs averaged, then averaged over the models of every fold (class
        probabilities or scores, see :attr:`score_name`, or values).  Unusable recordings
        are left out and reported in the progress log."""
        from .predict import FilePredictor

        if not any(h.level == "utterance" for h in self.heads):
            raise SertkError(f"{self.dir}: the model has only frame-level heads; predict their contours "
                             f"with sertk predict")
        return {path: out.utterance for path, out in
                FilePredictor(self, batch_size, device).whole_files(paths).items()}

    @property
    def score_name(self) -> str:
        """What a classification head's output is: softmax probabilities of a network,
        or the decision scores of an estimator (e.g. SVM votes), which are not probabilities."""
        from ..estimator import EstimatorModel

        return "score" if issubclass(self.registry.get("models", self.recipe.model["name"]), EstimatorModel) \
            else "probability"


class TrainedRun(FoldModels):
    """Models, data and folds of a run directory written by ``sertk run``."""

    def __init__(self, run_dir: Path, registry: Registry, progress: Progress = Silent()):
        layout = RunLayout(run_dir)
        layout.require((layout.recipe, layout.folds, layout.data))
        self.fold_ids: dict[str, dict[str, list[str]]] = layout.read_json(layout.folds)
        with layout.reading(layout.data):
            repeats = int(layout.read_json(layout.data).get("repeats", 1))
        # fold model name (every repeat's, as in ``folds/``) -> protocol fold
        self._protocol_fold = {fold_name(f, r, repeats): f for r in range(repeats) for f in self.fold_ids}
        super().__init__(layout.dir, list(self._protocol_fold), registry, progress)

    @functools.cached_property
    def data(self) -> Data:
        """The run's utterances and features (served from the feature cache)."""
        return prepare_data(self.recipe, self.registry, self.progress)

    def _fold(self, fold: str) -> dict[str, list[str]]:
        super()._fold(fold)
        return self.fold_ids[self._protocol_fold[fold]]

    def network(self, fold: str, analyzer: str):
        """The fold's trained neural network, or a user error naming ``analyzer`` when the
        run holds estimator models (e.g. a linear SVM), which have no gradients or layers."""
        import torch

        model = self.model(fold)
        if not isinstance(model, torch.nn.Module):
            raise SertkError(f"{analyzer} inspects neural networks, but {self.dir} holds "
                             f"{type(model).__name__} models; analyse a run of a network model")
        return model.eval()

    def segments(self, fold: str, split: str = "test") -> list[int]:
        """Segment indices of a fold's split (train, validation or test)."""
        ids = set(self._fold(fold)[split])
        utts = [i for i, u in enumerate(self.data.utterances) if u.id in ids]
        return self.data.segments_of(utts)

    def _loader(self, fold: str, data: Data, seg: Sequence[int], batch_size: int, with_targets: bool):
        from ..data.batching import SegmentDataset, make_loader
        from .session import encode_part

        normalizer = self.normalizer(fold)
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
