"""The linear-kernel SVR baseline of MixedEmotions D4.2 (§5.3, §4.5.2): one linear SVR per
target on single feature frames, its complexity C chosen on the development part from a
log grid 1e-6 … 1 by the CCC over all development frames."""
from __future__ import annotations

import warnings
from typing import Any, Optional

import numpy as np

from sertk import SertkError, Strategy

PAPER_COMPLEXITIES = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]


def ccc(gold: np.ndarray, pred: np.ndarray) -> float:
    """Lin's concordance correlation coefficient (population statistics); 0 for constant series."""
    gold, pred = np.asarray(gold, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    denominator = gold.var() + pred.var() + (gold.mean() - pred.mean()) ** 2
    return float(2 * np.mean((gold - gold.mean()) * (pred - pred.mean())) / denominator) if denominator > 0 else 0.0


def label_frames(session: Any, part: Any, model: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The part's normalised feature frames at its label frame times, (N, D), and the
    gold values per head, (N,).  Feature frames are resampled to the label times exactly
    as the engine resamples the model's outputs (``sertk.nn.align_frames``), so a linear
    model fitted here gives the same predictions when the engine scores it."""
    import torch

    from sertk.nn import align_frames

    arrays = session.arrays(part)[model.feature]
    durations = session.durations(part)
    rows, gold = [], {h.name: [] for h in model.heads}
    first = model.heads[0].name
    for i, x in enumerate(arrays):
        targets = {h.name: part.targets[h.name][i] for h in model.heads}
        times = np.asarray(targets[first].times, dtype=np.float64)
        steps = len(x)
        valid = min(steps, max(1, int(np.ceil(durations[i] * model.rate - 1e-6)))) if durations[i] else steps
        aligned = align_frames(torch.as_tensor(np.asarray(x, dtype=np.float64))[None], model.rate,
                               torch.tensor([valid]), torch.as_tensor(times)[None], float(targets[first].rate))
        rows.append(aligned[0].numpy())
        for name, target in targets.items():
            if len(target.times) != len(times):
                raise SertkError(f"svr_grid: the heads' label frames differ in segment {i}; fit one target per run")
            gold[name].append(np.asarray(target.values, dtype=np.float64))
    return np.concatenate(rows), {k: np.concatenate(v) for k, v in gold.items()}


class SVRGrid(Strategy):
    """Fits a ``frame_linear`` model as one linear-kernel SVR per target (liblinear through
    scikit-learn's ``LinearSVR``) on the training frames, with the complexity C chosen from
    ``complexities`` (D4.2's log grid 1e-6 … 1) by the CCC over all validation frames
    (MixedEmotions D4.2 §5.3, §4.5.2).  ``epsilon`` is the SVR's insensitive zone (0:
    liblinear's default, not given in D4.2); ``max_frames`` subsamples training frames
    evenly (None: all)."""

    name = "svr_grid"
    summary = "linear SVR per target frame, complexity chosen on development CCC (MixedEmotions D4.2 §5.3)"

    def __init__(self, complexities: list[float] = PAPER_COMPLEXITIES, epsilon: float = 0.0,
                 max_frames: Optional[int] = None, max_iter: int = 2000):
        if not complexities or min(complexities) <= 0:
            raise ValueError(f"complexities must be positive values, got {complexities}")
        if epsilon < 0 or max_iter < 1 or (max_frames is not None and max_frames < 1):
            raise ValueError("epsilon must be >= 0, max_iter and max_frames >= 1")
        self.complexities, self.epsilon = [float(c) for c in complexities], float(epsilon)
        self.max_frames, self.max_iter = max_frames, max_iter
        self.chosen: dict[str, dict[str, Any]] = {}

    def fit(self, session):
        import torch
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.svm import LinearSVR

        model = session.new_model()
        if not (hasattr(model, "linear") and hasattr(model, "feature") and hasattr(model, "complexity")):
            raise SertkError(f"svr_grid fits the weights of a frame_linear model; the recipe's model is "
                             f"{type(model).__name__}")
        if not len(session.validation):
            raise SertkError("svr_grid chooses C on the validation part, which is empty; set a validation partition "
                             "or train.validation")
        x, gold = label_frames(session, session.train, model)
        x_dev, gold_dev = label_frames(session, session.validation, model)
        if self.max_frames is not None and len(x) > self.max_frames:
            keep = np.linspace(0, len(x) - 1, self.max_frames).round().astype(int)
            x, gold = x[keep], {k: v[keep] for k, v in gold.items()}
        weights, biases = np.zeros((len(model.heads), x.shape[1])), np.zeros(len(model.heads))
        log = getattr(session, "progress", None)
        for k, head in enumerate(model.heads):
            scores = {}
            for c in self.complexities:
                svr = LinearSVR(C=c, epsilon=self.epsilon, max_iter=self.max_iter, dual="auto", random_state=0)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    svr.fit(x, gold[head.name])
                scores[c] = (ccc(gold_dev[head.name], svr.predict(x_dev)), svr.coef_.copy(), float(svr.intercept_[0]))
            best = max(self.complexities, key=lambda c: scores[c][0])
            weights[k], biases[k] = scores[best][1], scores[best][2]
            with torch.no_grad():
                model.complexity[k] = best
            self.chosen[f"{session.fold.name}/{head.name}"] = {"C": best, "dev_ccc": scores[best][0],
                                                              "grid": {str(c): s[0] for c, s in scores.items()}}
            if log is not None:
                log.log(f"svr_grid {head.name}: C = {best:g}, validation CCC {scores[best][0]:.3f} "
                        f"({len(x)} training frames)")
        with torch.no_grad():
            model.linear.weight.copy_(torch.as_tensor(weights, dtype=model.linear.weight.dtype))
            model.linear.bias.copy_(torch.as_tensor(biases, dtype=model.linear.bias.dtype))
        return model.eval()
