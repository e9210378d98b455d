"""Training and evaluation throughput of the 2-D (or 1-D) CNN-LSTM on EmoDB (CPU).

Fits the model of ``recipes/emodb_cnn2d_lstm.yaml`` (``--recipe``: another, e.g.
``recipes/emodb_cnn1d_lstm.yaml``) on the first ``--folds``
leave-one-speaker-out folds as ``sertk run`` does (validation, early stopping,
test predictions) and prints each fold's wall and CPU seconds and epochs, then
the leave-one-speaker-out wall time extrapolated from them (mean fold time ×
folds, plus the measured data loading).  On the first fold's data it also
prints training and evaluation samples per second and three ratios measured in
this one run:

* evaluation with autograd recording / under ``torch.no_grad`` (as the
  trainer evaluates; ``torch.inference_mode`` is printed beside it);
* a training step with the local feature learning blocks in the plain order
  (ELU before pooling, contiguous NCHW or NCT maps, torch's own batch norm and
  convolution gradients) / as sertk-zhao computes them (pooling before ELU,
  channels-last maps; for the 1-D network (B, T, C) sequences, batch norm folded
  into the first convolution, matrix-product convolution gradients);
* training samples per wall second with the recipe's threads / with one.

Needs EmoDB at ``../shared/corpora/emodb`` and the sertk-zhao plugin (skipped
otherwise).  Folds are fitted one at a time in this process (the recipe's ``train.jobs``
is not used, so the extrapolation is for one fold at a time).  Threads follow the recipe
(``train.threads``, torch's default when null; ``--threads`` overrides);
OpenMP threads sleep while they wait (``OMP_WAIT_POLICY=PASSIVE``), as under ``sertk``.
Run on demand:

    python benchmarks/bench_training.py [--recipe R] [--folds 2] [--threads N] [--set KEY=VALUE ...]
"""
import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the sertk command sets it, before torch loads
ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "emodb_cnn2d_lstm.yaml"
CORPUS = ROOT.parent / "shared" / "corpora" / "emodb"


class Clock:
    """Wall and process CPU seconds since creation."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self):
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def load(recipe_path, threads, overrides):
    """Recipe, registry, extracted data, heads and the leave-one-speaker-out folds."""
    from sertk.engine.components import build_model
    from sertk.engine.experiment import load_utterances, prepare_data, usable
    from sertk.engine.preflight import preflight
    from sertk.engine.run import resolve_folds
    from sertk.plugins import load_plugins
    from sertk.progress import Silent
    from sertk.recipe import load_recipe
    from sertk.registry import Registry

    registry = Registry.from_plugins(load_plugins())
    overrides = [f"corpus.params.root={CORPUS}", *overrides] + ([f"train.threads={threads}"] if threads else [])
    recipe = load_recipe(recipe_path, overrides, registry)
    utterances = load_utterances(recipe, registry, Silent())
    data = prepare_data(recipe, registry, Silent(), utterances, preflight(recipe, registry, utterances))
    heads = list(build_model(recipe, registry, data.info, data.labels, recipe.train.seed).heads)
    keep = usable(data.utterances, heads, recipe.data.missing_labels)
    return recipe, registry, data, heads, resolve_folds(recipe, registry, data, keep, heads)


def session_of(recipe, registry, data, heads, fold):
    from sertk import FitSession
    from sertk.progress import Silent

    metrics = [registry.build("metrics", m, f"metrics.{i}") for i, m in enumerate(recipe.metrics)]
    by_kind = {}
    for m in metrics:
        by_kind.setdefault(m.kind, []).append(m)
    session = FitSession(recipe, registry, data, fold, heads, by_kind, Silent())
    session.trainer  # builds the trainer, which sets the recipe's torch threads
    return session


def train_rate(session, model, epochs=1):
    """Training samples per wall and CPU second: optimiser steps over the fold's training batches."""
    import torch

    losses = session.losses()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader, model = session.loader(session.train, shuffle=True), model.train()
    first = next(iter(loader))  # warm-up step
    sum(model.head_losses(model(first.inputs, first.lengths), first, losses).values()).backward()
    optimizer.zero_grad()
    clock, count = Clock(), 0
    for _ in range(epochs):
        for batch in loader:
            loss = sum(model.head_losses(model(batch.inputs, batch.lengths), batch, losses).values())
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            count += len(batch.ids)
    return rates(count, clock)


def rates(count, clock):
    """Samples per wall second and per CPU second (all threads) since ``clock`` started."""
    wall, cpu = clock.read()
    return count / wall, count / cpu


def eval_rate(session, model, context, repeats=3):
    """Evaluation samples per wall and CPU second over the fold's validation and test batches."""
    batches = list(session.loader(session.validation)) + list(session.loader(session.test))
    model.eval()
    with context():
        model(batches[0].inputs, batches[0].lengths)
        clock = Clock()
        for _ in range(repeats):
            for batch in batches:
                model(batch.inputs, batch.lengths)
    return rates(repeats * sum(len(b.ids) for b in batches), clock)


def plain_order(model):
    """The model with its blocks computed in the plain order: ELU before pooling, NCHW maps
    (the 1-D network: NCT maps, transposed once before and after the blocks)."""
    import torch
    import torch.nn.functional as F
    from sertk_zhao.lflb import pool_window
    from sertk_zhao.models import CNN1DLSTM

    def forward(block, x):
        x = F.elu(block.norm(block.conv(x)))
        return block._max_pool(x, tuple(pool_window(size, p) for size, p in zip(x.shape[2:], block.pool)))

    for block in model.blocks:
        block.forward = forward.__get__(block)
    if isinstance(model, CNN1DLSTM):
        model.sequence = lambda x: model.run_blocks(x.transpose(1, 2)).transpose(1, 2)
    return model.to(memory_format=torch.contiguous_format)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=RECIPE, help="a Zhao CNN-LSTM recipe (default: the 2-D one)")
    parser.add_argument("--folds", type=int, default=2, help="folds to fit in full (default 2; 0: throughput only)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the recipe's)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe override, as for sertk run (e.g. train.epochs=2)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: EmoDB not found at {CORPUS}")
        return
    try:
        import sertk_zhao  # noqa: F401
    except ImportError:
        print("skipped: the sertk-zhao plugin is not installed (pip install -e plugins/sertk-zhao)")
        return
    import torch

    clock = Clock()
    recipe, registry, data, heads, folds = load(args.recipe, args.threads, args.overrides)
    load_wall, load_cpu = clock.read()
    print(f"data: {len(data.utterances)} utterances, {len(folds)} folds, loaded in {load_wall:.1f} s "
          f"(CPU {load_cpu:.1f} s); train.threads {recipe.train.threads}")
    walls = []
    for fold in folds[:args.folds]:
        clock = Clock()
        session = session_of(recipe, registry, data, heads, fold)
        model = session.new_model()
        history = session.fit(model)
        session.predict(model, session.test)
        wall, cpu = clock.read()
        walls.append(wall)
        print(f"fold {fold.name}: {history.epochs} epochs, {len(session.train)} training samples, "
              f"{wall:.1f} s wall, {cpu:.1f} s CPU")

    session = session_of(recipe, registry, data, heads, folds[0])
    training = train_rate(session, session.new_model())
    plain = train_rate(session, plain_order(session.new_model()))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    single = train_rate(session, session.new_model())
    torch.set_num_threads(threads)
    plain_eval = eval_rate(session, session.new_model(), torch.no_grad)
    inference = eval_rate(session, session.new_model(), torch.inference_mode)
    recorded = eval_rate(session, session.new_model(), torch.enable_grad)
    print(f"training (batch {recipe.train.batch_size}): {training[0]:.0f} samples/s wall, {training[1]:.0f} per CPU "
          f"second; plain block order / sertk-zhao's: {training[1] / plain[1]:.2f}x the CPU time per sample; "
          f"{threads} threads / 1: {training[0] / single[0]:.2f}x the samples per wall second")
    print(f"evaluation: {plain_eval[0]:.0f} samples/s wall, {plain_eval[1]:.0f} per CPU second under no_grad (as the "
          f"trainer); inference_mode {plain_eval[1] / inference[1]:.2f}x and autograd recording "
          f"{plain_eval[1] / recorded[1]:.2f}x the CPU time of no_grad")
    if not walls:
        return
    estimate = load_wall + sum(walls) / len(walls) * len(folds)
    print(f"leave-one-speaker-out ({len(folds)} folds), extrapolated from {len(walls)} fitted fold(s): "
          f"{estimate / 60:.1f} min wall (os.cpu_count() = {os.cpu_count()})")


if __name__ == "__main__":
    main()
