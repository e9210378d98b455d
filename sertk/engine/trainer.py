"""Fitting models on mini-batches and pooling their predictions.

:class:`Trainer` runs the epoch loop for :class:`sertk.model.Model` networks
(the update itself is ``model.training_step``, which plugins may override);
estimators are fitted without torch by :mod:`sertk.engine.estimate`.
"""
from __future__ import annotations

import math
import os
from collections import defaultdict
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import numpy as np
import torch

from ..errors import ConfigError, SertkError
from ..interfaces import Head
from ..interfaces import Loss as LossBase
from ..data.batching import EpochLoader
from ..model import Batch, Model, frame_output
from ..nn import frame_mask
from ..progress import Progress, Silent
from ..sequences import greedy_decode
from ..settings import TrainConfig
from .optim import EpochSchedule, build_optimizer
from .outcomes import EpochEnd, History, Predictions
from .seeding import seed_everything
from .transfer import freeze, parameter_groups, train_mode

Loader = Iterable[Batch]


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; an unavailable explicit device fails naming the key."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device", f"{name} requested but CUDA is not available here; use auto or cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("train.device", "mps requested but not available here; use auto or cpu")
    return device


def l2_penalty(model: Model, form: str = "squared") -> torch.Tensor:
    """Σ‖w‖² over ``model.penalized_parameters()`` (in float32); ``form="norm"``:
    its square root ‖w‖₂, the weights taken as one vector."""
    params = list(model.penalized_parameters())
    if not params:
        return torch.zeros(())
    squared = sum(p.float().pow(2).sum() for p in params)
    return squared.sqrt() if form == "norm" else squared


def collect_targets(loader: Loader, heads: list[Head]) -> dict[str, np.ndarray]:
    """All encoded training targets per head as 1-D arrays (valid frames only for frame-level heads)."""
    found: dict[str, list[np.ndarray]] = defaultdict(list)
    for batch in loader:
        for head in heads:
            target = batch.targets[head.name]
            mask = batch.target_masks.get(head.name)
            found[head.name].append((target[mask] if mask is not None else target).reshape(-1).cpu().numpy())
    return {name: np.concatenate(parts) for name, parts in found.items()}


def prepare_losses(heads: list[Head], losses: Mapping[str, Any], targets: Mapping[str, np.ndarray]) -> None:
    """``loss.prepare(head, targets)`` for every head (a loss that needs training-set
    statistics, e.g. balanced class weights, overrides :meth:`sertk.Loss.prepare`)."""
    for head in heads:
        losses[head.name].prepare(head, np.asarray(targets[head.name]))


class SkipMissing:
    """A head's loss over the segments that carry its label (``data.missing_labels: mask``).

    Segments without it (a (B,) utterance mask that is False, or a contour
    without frames) are left out before the wrapped loss sees the batch, so they
    give that head neither loss nor gradient; a batch with none gives a zero loss.
    """

    def __init__(self, loss: Any) -> None:
        self.loss = loss

    def prepare(self, head: Head, targets: np.ndarray) -> None:
        self.loss.prepare(head, targets)

    def __call__(self, output: torch.Tensor, target: torch.Tensor, mask: Optional[torch.Tensor] = None,
                 **lengths: torch.Tensor) -> torch.Tensor:
        if mask is None:
            return self.loss(output, target, None, **lengths)
        rows = mask.bool() if mask.ndim == 1 else mask.bool().any(1)
        frames = mask if mask.ndim > 1 else None
        if bool(rows.all()):
            return self.loss(output, target, frames, **lengths)
        if not bool(rows.any()):
            return output.sum() * 0.0
        return self.loss(output[rows], target[rows], frames[rows] if frames is not None else None,
                         **{k: v[rows] for k, v in lengths.items()})


def _pad_concat(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate (B, T, ...) arrays along B, zero-padding T to the longest."""
    longest = max(p.shape[1] for p in parts)
    padded = [np.pad(p, [(0, 0), (0, longest - p.shape[1])] + [(0, 0)] * (p.ndim - 2)) for p in parts]
    return np.concatenate(padded)


def _join(heads: list[Head], parts: Mapping[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    frame = {h.name for h in heads if h.level == "frame" and h.kind != "sequence"}
    return {name: _pad_concat(p) if name in frame else np.concatenate(p) for name, p in parts.items()}


def _ragged(rows: Iterable[np.ndarray]) -> np.ndarray:
    """An object array holding one 1-D array per row."""
    rows = list(rows)
    out = np.empty(len(rows), dtype=object)
    out[:] = rows
    return out


def _valid_rows(values: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """The valid entries of each padded row, as an object array."""
    values, mask = values.cpu().numpy(), mask.cpu().numpy().astype(bool)
    return _ragged(v[m] for v, m in zip(values, mask))


def _prepares(loss: Any) -> bool:
    """Whether a loss overrides :meth:`sertk.Loss.prepare` (needs training-set statistics)."""
    return getattr(type(loss), "prepare", LossBase.prepare) is not LossBase.prepare


class Trainer:
    """Fits models and predicts with them under one :class:`TrainConfig`.

    The engine reports through ``progress`` only: one task per fit, advanced
    per epoch, with fields ``loss`` (summed training loss) and ``score``.
    ``callbacks`` are called with an :class:`EpochEnd` after every epoch; one
    returning True ends training.
    """

    def __init__(self, config: TrainConfig, progress: Optional[Progress] = None,
                 callbacks: Sequence[Callable[[EpochEnd], Optional[bool]]] = ()) -> None:
        self.config = config
        self.progress = progress or Silent()
        self.callbacks = list(callbacks)
        self.device = resolve_device(config.device)
        self.amp = bool(config.amp) and self.device.type == "cuda"
        # bfloat16 needs no loss scaling; float16 (GPUs without bfloat16) is scaled by a GradScaler
        self.amp_dtype = torch.bfloat16 if self.amp and torch.cuda.is_bf16_supported() else torch.float16
        self._ddp = None  # DistributedDataParallel wrapper while fitting under torchrun
        self._share = 1.0  # this rank's loss weight for the current batch (distributed.shard)
        if config.threads is not None:
            torch.set_num_threads(min(config.threads, os.cpu_count() or 1))

    # ---------------------------------------------------------------- fit
    def fit(self, model: Model, losses: Mapping[str, Any], train_loader: Loader,
            val_loader: Optional[Loader] = None, select: Optional[Callable[[Predictions], float]] = None,
            greater_is_better: bool = True, description: str = "Training",
            train_targets: Optional[Mapping[str, np.ndarray]] = None) -> History:
        """Train ``model`` in place and return its :class:`History`.

        With ``val_loader``, the validation score after each epoch is
        ``select(predictions)`` (oriented by ``greater_is_better``) or, when
        ``select`` is None or ``train.select`` is ``loss``, the mean validation
        loss (lower is better); it drives early stopping, the ``plateau``
        schedule and the restore of the best epoch's weights.  Without
        ``val_loader``, or with ``train.select: last``, every epoch runs and the
        last weights stay.  ``train_loader`` may be an
        :class:`~sertk.data.batching.EpochLoader` (different batches per epoch).
        ``train_targets`` (1-D encoded targets per head) spares a pass over
        ``train_loader`` when a loss needs ``prepare``.  Sub-networks named in
        ``train.freeze`` get no gradient and stay in evaluation mode.
        """
        seed_everything(self.config.seed)
        missing = [h.name for h in model.heads if h.name not in losses]
        if missing:
            raise SertkError(f"no loss for model head(s) {missing}; losses are given for {sorted(losses)}")
        if any(_prepares(losses[h.name]) for h in model.heads):
            prepare_losses(model.heads, losses,
                           train_targets if train_targets is not None else collect_targets(train_loader, model.heads))
        freeze(model, self.config.freeze)
        model.to(self.device)
        if val_loader is not None and (select is None or self.config.select == "loss"):
            select, greater_is_better = (lambda _: self.validation_loss(model, losses, val_loader)), False
        return self._fit_network(model, losses, train_loader, val_loader, select, greater_is_better, description)

    def _fit_network(self, model: Model, losses, train_loader, val_loader, select, greater_is_better,
                     description) -> History:
        cfg = self.config
        optimizer = build_optimizer(parameter_groups(model, cfg.optimizer.lr, cfg.module_lr), cfg.optimizer)
        schedule = EpochSchedule(optimizer, cfg.schedule,
                                 "max" if val_loader is not None and greater_is_better else "min")
        step = self._step_function(model, optimizer)
        self._ddp = self._data_parallel(model)
        history = History()
        keep_best = val_loader is not None and cfg.select != "last"
        best_score, best_state = None, None
        with self.progress.task(description, total=cfg.epochs) as task:
            for epoch in range(1, cfg.epochs + 1):
                lr = schedule.lr
                loader = train_loader.for_epoch(epoch) if isinstance(train_loader, EpochLoader) else train_loader
                train_loss = self._train_epoch(model, losses, loader, step)
                total = sum(train_loss.values())
                if not math.isfinite(total):
                    raise SertkError(f"training diverged: loss is {total} in epoch {epoch}; "
                                     "lower train.optimizer.lr or set train.clip_norm")
                score = float(select(self.predict(model, val_loader))) if val_loader is not None else None
                if self._ddp is not None:  # every rank selects and stops on rank 0's score
                    from .distributed import agreed
                    score = agreed(score)
                history.train_loss.append(train_loss)
                history.val_score.append(score)
                history.lr.append(lr)
                task.update(loss=total, score=score)
                task.advance()
                if keep_best and score is not None and math.isfinite(score) and (
                        best_score is None or (score > best_score if greater_is_better else score < best_score)):
                    best_score, history.best_epoch = score, epoch
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                schedule.step(score if val_loader is not None else total)
                if self._should_stop(history, epoch, schedule.lr, model):
                    history.stopped_early = epoch < cfg.epochs
                    break
        self._ddp = None
        if best_state is not None:
            model.load_state_dict(best_state)
        else:
            if keep_best:
                self.progress.log(f"{description}: the validation score was never finite; keeping the last weights")
            history.best_epoch = history.epochs
        return history

    def _should_stop(self, history: History, epoch: int, lr: float, model: Model) -> bool:
        """Early stopping (``select`` metric or loss), the learning-rate floor, or a callback."""
        cfg = self.config
        stop = (cfg.select != "last" and history.best_epoch is not None
                and epoch - history.best_epoch >= cfg.early_stopping.patience
                and epoch >= cfg.early_stopping.min_epochs and epoch < cfg.epochs)
        if cfg.stop_at_lr is not None and lr <= cfg.stop_at_lr * (1 + 1e-9) and epoch < cfg.epochs:
            self.progress.log(f"learning rate {lr:.3g} reached train.stop_at_lr after epoch {epoch}")
            stop = True
        for callback in self.callbacks:
            stop = bool(callback(EpochEnd(epoch, model, history, self))) or stop
        return stop

    def _autocast(self):
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype, enabled=self.amp)

    def _data_parallel(self, model: Model):
        """The model wrapped in DDP when this process is a torchrun rank, else None."""
        from . import distributed

        world = distributed.current()
        if world is None:
            return None
        distributed.check_batch(world, self.config.batch_size)
        return distributed.wrap(model, self.device)

    def _batches(self, loader: Loader):
        """(batch, loss weight): each whole batch, or under DDP this rank's shard of it."""
        from . import distributed

        if self._ddp is None:
            return ((b, 1.0) for b in loader)
        return distributed.seeded(distributed.shard(loader, distributed.current()))

    def _step_function(self, model: Model, optimizer: torch.optim.Optimizer) -> Callable[[torch.Tensor], None]:
        """``step(loss)``: add the L2 penalty, backpropagate (scaled under AMP), clip, step, zero the gradients."""
        cfg = self.config
        scaler = torch.amp.GradScaler(self.device.type, enabled=self.amp and self.amp_dtype == torch.float16)
        params = [p for group in optimizer.param_groups for p in group["params"]]

        def step(loss: torch.Tensor) -> None:
            with torch.autocast(device_type=self.device.type, enabled=False):
                loss = loss.float() * self._share
                if cfg.l2:
                    loss = loss + cfg.l2 * l2_penalty(model, cfg.l2_form)
                scaler.scale(loss).backward()
                if cfg.clip_norm is not None:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(params, cfg.clip_norm)
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)

        return step

    def _train_epoch(self, model: Model, losses, loader: Loader, step) -> dict[str, float]:
        from contextlib import nullcontext

        from .distributed import pooled, routed

        train_mode(model, self.config.freeze)
        sums: dict[str, float] = defaultdict(float)
        count = 0
        with routed(model, self._ddp) if self._ddp is not None else nullcontext():
            for batch, share in self._batches(loader):
                self._share = share
                batch = batch.to(self.device)
                with self._autocast():
                    per_head = model.training_step(batch, losses, step)
                n = len(batch.ids) if self._share else 0
                for name, value in per_head.items():
                    sums[name] += float(value) * n
                count += n
        self._share = 1.0
        if self._ddp is not None:
            sums, count = pooled(sums, count)
        if count == 0:
            raise SertkError("the training set of this fold is empty")
        return {name: value / count for name, value in sums.items()}

    @torch.no_grad()
    def validation_loss(self, model: Model, losses: Mapping[str, Any], loader: Loader) -> float:
        """Mean summed head loss over ``loader`` in evaluation mode."""
        model.eval()
        total, count = 0.0, 0
        for batch in loader:
            batch = batch.to(self.device)
            with self._autocast():
                per_head = model.head_losses(model(batch.inputs, batch.lengths), batch, losses)
            total += float(sum(per_head.values())) * len(batch.ids)
            count += len(batch.ids)
        return total / max(count, 1)

    # ---------------------------------------------------------------- predict
    def predict(self, model: Model, loader: Loader) -> Predictions:
        """Pooled outputs (softmax probabilities for a network's classification heads) and targets."""
        model.to(self.device)
        model.eval()
        with torch.no_grad():
            return self._gather(model.heads, loader, lambda batch: self._network_outputs(model, batch))

    def _network_outputs(self, model: Model, batch: Batch) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per head: probabilities / values (frame heads aligned to the label frames when
        the batch has them), greedy CTC decodings for sequence heads; and frame masks."""
        batch = batch.to(self.device)
        with self._autocast():
            raw = model(batch.inputs, batch.lengths)
        out, masks = {}, {}
        for head in model.heads:
            value = raw[head.name].float()
            if head.level == "frame":
                value, lengths = frame_output(head, value, batch)
                valid = (batch.target_masks[head.name] if head.kind != "sequence" and head.name in batch.target_masks
                         else frame_mask(lengths, value.shape[1], value.shape[0], value.device))
                if head.kind == "sequence":
                    out[head.name] = _ragged(greedy_decode(row) for row in _valid_rows(value.argmax(-1), valid))
                    continue
                masks[head.name] = valid.cpu().numpy().astype(bool)
            out[head.name] = (value.softmax(-1) if head.kind == "classification" else value).cpu().numpy()
        return out, masks

    def _gather(self, heads: list[Head], loader: Loader,
                outputs_of: Callable[[Batch], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]) -> Predictions:
        """Run ``outputs_of`` over every batch and pool outputs, targets and frame masks."""
        ids: list[str] = []
        outputs, targets, masks = defaultdict(list), defaultdict(list), defaultdict(list)
        batches = 0
        for batch in loader:
            batches += 1
            ids.extend(batch.ids)
            values, value_masks = outputs_of(batch)
            for name, value in values.items():
                outputs[name].append(value)
            for name, mask in value_masks.items():
                masks[name].append(mask)
            for head in heads:
                if head.name not in batch.targets:
                    continue
                target = batch.targets[head.name]
                targets[head.name].append(_valid_rows(target, batch.target_masks[head.name])
                                          if head.kind == "sequence" else target.cpu().numpy())
        if batches == 0:
            raise SertkError("nothing to predict: the data loader is empty")
        complete = {name: parts for name, parts in targets.items() if len(parts) == batches}
        return Predictions(ids, _join(heads, outputs), _join(heads, complete), _join(heads, masks))
