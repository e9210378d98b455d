"""Training of the ``rda_backend`` model (MixedEmotions D4.2 §3.3, §3.4.2, Table 4.1): the rDA
on (corrupted, clean) MFCC pairs of the training segments with early stopping on the validation
segments' pairs, then the linear SVR / SVM on the back-end attributes with C chosen on validation."""
from __future__ import annotations

import copy
import warnings
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np

from sertk import SertkError, Strategy

from .svr import ccc, label_frames

PAPER_GRID = [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1, 5e-1, 1.0]
EVAL_BATCH = 64  # sequences per forward pass without gradients


def valid_steps(frames: int, model) -> int:
    """Back-end output frames of a segment of ``frames`` input frames (as ``window_moments``)."""
    return max(1, int(np.ceil(frames / model.rate / model.hop_s - 1e-9)))


def standardise(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (floored at 1e-8) of every dimension over all frames."""
    frames = np.concatenate(arrays).astype(np.float64)
    return frames.mean(0), np.maximum(frames.std(0), 1e-8)


def masked_mse(output, target, lengths, reduction: str = "mean"):
    """Squared error over the valid frames and all dimensions: their mean, or their sum."""
    from sertk.nn import frame_mask

    mask = frame_mask(lengths, output.shape[1], output.shape[0]).to(output.dtype)[..., None]
    total = (((output - target) ** 2) * mask).sum()
    return total if reduction == "sum" else total / (mask.sum() * output.shape[-1])


def padded(pairs: list[tuple[Any, Any]]):
    """(inputs, targets, lengths) of a list of (T_i, D) tensor pairs, zero-padded."""
    import torch
    from torch.nn.utils.rnn import pad_sequence

    inputs, targets = (pad_sequence([p[k] for p in pairs], batch_first=True) for k in (0, 1))
    return inputs, targets, torch.tensor([len(p[0]) for p in pairs])


def evaluate_mse(rda, pairs, batch_size: int, identity: bool = False) -> float:
    """Frame-weighted MSE of the rDA's outputs (or of its inputs, ``identity``) to the clean targets."""
    import torch

    total, frames = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(pairs), batch_size):
            x, y, n = padded(pairs[i:i + batch_size])
            out = x if identity else rda(x, n)
            total += float(masked_mse(out, y, n)) * int(n.sum())
            frames += int(n.sum())
    return total / max(frames, 1)


class RDAEnhance(Strategy):
    """Fits an ``rda_backend`` model (MixedEmotions D4.2 §3.4.2): the rDA maps standardised
    corrupted MFCCs of the training segments to their standardised clean MFCCs (MSE, Gaussian
    input noise of the model's ``input_noise``, mini-batches of ``batch_size`` sequences),
    stopping after ``patience`` epochs without a lower validation MSE (at most ``max_epochs``;
    the best epoch is kept); then a linear back end on the mean and variance attributes:
    LIBLINEAR's L2-regularised L2-loss SVR (``LinearSVR(loss="squared_epsilon_insensitive")``)
    per contour, or the L2-loss linear SVM (``LinearSVC``) for a categorical label, with C from
    ``complexities`` chosen by validation CCC (contours, all frames) or UA.

    D4.2's optimiser is gradient descent with ``lr`` 1e-6 and ``momentum`` 0.9 (the defaults),
    here on the sum of squared errors over the batch (``reduction: sum``, the convention of the
    CURRENNT toolkit such BLSTM autoencoders were trained with; assumed, D4.2 does not say: on
    the mean squared error, ``reduction: mean``, a learning rate of 1e-6 barely moves the
    weights).  ``optimizer: adam`` is a faster variant for CPU runs (not in D4.2).
    ``balanced`` weights SVM classes by inverse frequency (not in D4.2).  ``max_frames``
    subsamples training frames of contour targets evenly."""

    name = "rda_enhance"
    summary = "trains the rDA (BLSTM, MSE, early stopping) then a linear SVR/SVM back end (MixedEmotions D4.2 §3.4.2)"

    def __init__(self, optimizer: Literal["sgd", "adam"] = "sgd", lr: float = 1e-6, momentum: float = 0.9,
                 batch_size: int = 8, max_epochs: int = 200, patience: int = 20,
                 complexities: list[float] = PAPER_GRID, balanced: bool = False, max_iter: int = 5000,
                 max_frames: int | None = None, reduction: Literal["mean", "sum"] = "sum"):
        if optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be sgd or adam, got {optimizer!r}")
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be mean or sum, got {reduction!r}")
        if not lr > 0 or not 0 <= momentum < 1:
            raise ValueError(f"need lr > 0 and momentum in [0, 1), got {lr} and {momentum}")
        if min(batch_size, max_epochs, patience, max_iter, 1 if max_frames is None else max_frames) < 1:
            raise ValueError("batch_size, max_epochs, patience, max_iter and max_frames must be >= 1")
        if not complexities or min(complexities) <= 0:
            raise ValueError(f"complexities must be positive values, got {complexities}")
        self.optimizer, self.lr, self.momentum, self.batch_size = optimizer, float(lr), float(momentum), batch_size
        self.max_epochs, self.patience, self.complexities = max_epochs, patience, [float(c) for c in complexities]
        self.balanced, self.max_iter, self.max_frames, self.reduction = balanced, max_iter, max_frames, reduction
        self.report: dict[str, Any] = {}

    # ------------------------------------------------------------ the whole fit
    def fit(self, session):
        import torch

        model = session.new_model()
        if not all(hasattr(model, a) for a in ("rda", "backend", "frontend", "moments", "backend_input")):
            raise SertkError(f"rda_enhance fits an rda_backend model; the recipe's model is {type(model).__name__}")
        if not len(session.validation):
            raise SertkError("rda_enhance stops the rDA and chooses C on the validation part, which is empty; "
                             "set train.validation")
        train, val = session.arrays(session.train), session.arrays(session.validation)
        noisy = model.backend_input != "clean"
        train_in = [train[k] for k in model.train_streams] if noisy else [train[model.clean]]
        val_in = [val[k] for k in model.devel_streams] if noisy else [val[model.clean]]
        mean, std = standardise([a for stream in train_in for a in stream])
        with torch.no_grad():
            model.input_mean.copy_(torch.as_tensor(mean))
            model.input_std.copy_(torch.as_tensor(std))
        if model.backend_input == "enhanced":
            self.train_rda(session, model, train_in, train[model.clean], val_in, val[model.clean])
        self.fit_backend(session, model, train_in, val_in)
        return model.eval()

    # ------------------------------------------------------------ the rDA
    def pairs(self, model, streams: list[list[np.ndarray]], clean: list[np.ndarray], mean, std):
        """(standardised corrupted, standardised clean) tensor pairs, one per stream and segment."""
        import torch

        out = []
        for stream in streams:
            for x, y in zip(stream, clean):
                n = min(len(x), len(y))
                out.append((((torch.as_tensor(x[:n]) - model.input_mean) / model.input_std).float(),
                            torch.as_tensor((y[:n] - mean) / std).float()))
        return out

    def train_rda(self, session, model, train_in, train_clean, val_in, val_clean) -> None:
        import torch

        mean, std = standardise(train_clean)
        train_pairs = self.pairs(model, train_in, train_clean, mean, std)
        val_pairs = self.pairs(model, val_in, val_clean, mean, std)
        rda = model.rda
        params = rda.parameters()
        opt = torch.optim.SGD(params, lr=self.lr, momentum=self.momentum) if self.optimizer == "sgd" \
            else torch.optim.Adam(params, lr=self.lr)
        rng = np.random.default_rng(session.config.seed)
        torch.manual_seed(session.config.seed)
        best, best_state, best_epoch, epoch = float("inf"), copy.deepcopy(rda.state_dict()), 0, 0
        for epoch in range(1, self.max_epochs + 1):
            rda.train()
            order = rng.permutation(len(train_pairs))
            for i in range(0, len(order), self.batch_size):
                x, y, n = padded([train_pairs[j] for j in order[i:i + self.batch_size]])
                loss = masked_mse(rda(x + model.input_noise * torch.randn_like(x), n), y, n, self.reduction)
                opt.zero_grad()
                loss.backward()
                opt.step()
            rda.eval()
            score = evaluate_mse(rda, val_pairs, EVAL_BATCH)
            if score < best:
                best, best_state, best_epoch = score, copy.deepcopy(rda.state_dict()), epoch
            elif epoch - best_epoch >= self.patience:
                break
        rda.load_state_dict(best_state)
        identity = evaluate_mse(rda, val_pairs, EVAL_BATCH, identity=True)
        self.report[f"{session.fold.name}/rda"] = {"epochs": epoch, "best_epoch": best_epoch, "val_mse": best,
                                                   "val_mse_noisy_input": identity}
        session.progress.log(f"rda_enhance {session.fold.name}: rDA validation MSE {best:.4f} (noisy input "
                             f"{identity:.4f}), best epoch {best_epoch} of {epoch}")

    # ------------------------------------------------------------ the back end
    def attributes(self, session, model, part, streams: list[list[np.ndarray]]):
        """Raw back-end attributes of a part, one row block per stream: for contour heads
        (rows at the label frames, gold values per head); for a categorical/utterance head
        ((N, 2D) rows, targets)."""
        import torch

        model.eval()
        rows, gold = [], {h.name: [] for h in model.heads}
        for stream in streams:
            per_segment = []
            with torch.no_grad():
                for i in range(0, len(stream), EVAL_BATCH):
                    x, _, n = padded([(torch.as_tensor(a), torch.as_tensor(a)) for a in stream[i:i + EVAL_BATCH]])
                    moments = model.moments(model.frontend(x, n), n).double().numpy()
                    per_segment += [m[:valid_steps(len(a), model)] if model.frame_level else m
                                    for m, a in zip(moments, stream[i:i + EVAL_BATCH])]
            if model.frame_level:
                adapter = SimpleNamespace(arrays=lambda p, a=per_segment: {"moments": a}, durations=session.durations)
                x, y = label_frames(adapter, part, SimpleNamespace(feature="moments", rate=1 / model.hop_s,
                                                                   heads=model.heads))
                rows.append(x)
                for k in gold:
                    gold[k].append(y[k])
            else:
                rows.append(np.stack(per_segment))
                for k in gold:
                    gold[k].append(np.asarray(part.targets[k]))
        return np.concatenate(rows), {k: np.concatenate(v) for k, v in gold.items()}

    def fit_backend(self, session, model, train_in, val_in) -> None:
        import torch
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.metrics import recall_score
        from sklearn.svm import LinearSVC, LinearSVR

        x, gold = self.attributes(session, model, session.train, train_in)
        x_dev, gold_dev = self.attributes(session, model, session.validation, val_in)
        mean, std = standardise([x])
        x, x_dev = (x - mean) / std, (x_dev - mean) / std
        if self.max_frames is not None and model.frame_level and len(x) > self.max_frames:
            keep = np.linspace(0, len(x) - 1, self.max_frames).round().astype(int)
            x, gold = x[keep], {k: v[keep] for k, v in gold.items()}
        weights, biases = [], []
        for k, head in enumerate(model.heads):
            classify = head.kind == "classification"
            scores = {}
            for c in self.complexities:
                fitted = LinearSVC(C=c, loss="squared_hinge", class_weight="balanced" if self.balanced else None,
                                   dual="auto", max_iter=self.max_iter, random_state=0) if classify else \
                    LinearSVR(C=c, loss="squared_epsilon_insensitive", epsilon=0.0, dual="auto",
                              max_iter=self.max_iter, random_state=0)
                y = gold[head.name].astype(int) if classify else gold[head.name]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    fitted.fit(x, y)
                pred = fitted.predict(x_dev)
                score = recall_score(gold_dev[head.name].astype(int), pred, average="macro", zero_division=0) \
                    if classify else ccc(gold_dev[head.name], pred)
                scores[c] = (score, fitted)
            best = max(self.complexities, key=lambda c: scores[c][0])
            w, b = svm_weights(scores[best][1], len(head.classes)) if classify else \
                (scores[best][1].coef_[None], np.atleast_1d(scores[best][1].intercept_))
            weights.append(w)
            biases.append(b)
            with torch.no_grad():
                model.complexity[k] = best
            self.report[f"{session.fold.name}/{head.name}"] = {"C": best, "validation": scores[best][0]}
            session.progress.log(f"rda_enhance {session.fold.name} {head.name}: C = {best:g}, validation "
                                 f"{'UA' if classify else 'CCC'} {scores[best][0]:.3f} ({len(x)} training rows)")
        with torch.no_grad():
            model.moment_mean.copy_(torch.as_tensor(mean))
            model.moment_std.copy_(torch.as_tensor(std))
            model.backend.weight.copy_(torch.as_tensor(np.concatenate(weights)))
            model.backend.bias.copy_(torch.as_tensor(np.concatenate(biases)))


def svm_weights(svm, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A fitted LinearSVC as one linear score per class (classes the fold lacks score −inf-like
    −1e9; two classes: ±half the single decision function)."""
    weight, bias = np.zeros((n_classes, svm.coef_.shape[1])), np.full(n_classes, -1e9)
    present = np.asarray(svm.classes_, dtype=int)
    if len(present) == 2:
        weight[present] = np.stack([-svm.coef_[0], svm.coef_[0]]) / 2
        bias[present] = np.array([-svm.intercept_[0], svm.intercept_[0]]) / 2
    else:
        weight[present], bias[present] = svm.coef_, svm.intercept_
    return weight, bias
