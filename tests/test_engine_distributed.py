"""Data-parallel training under torchrun: two CPU ranks (gloo) train exactly as one process does."""
import json
import os
import runpy
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sertk.data.batching import SegmentDataset, make_loader
from sertk.engine import distributed
from sertk.engine.distributed import World, check_batch, shard
from sertk.errors import ConfigError

# Trains a tiny MLP on generated data and saves its weights; run alone or by torchrun.
WORKER = r'''
import json, sys
import numpy as np
import torch
from sertk.data.batching import SegmentDataset, make_loader
from sertk.engine import distributed
from sertk.engine.trainer import Trainer
from sertk.interfaces import Head
from sertk.model import Model
from sertk.settings import OptimizerConfig, TrainConfig

class MLP(Model):
    name = "mlp"
    def __init__(self):
        super().__init__()
        self.heads = [Head("emotion", "classification", ("a", "b", "c"))]
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Dropout(0.0),
                                       torch.nn.Linear(8, 3))
    def forward(self, inputs, lengths=None):
        return {"emotion": self.net(inputs["x"])}

def data(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.normal(size=(n, 4)) + y[:, None]).astype(np.float32)
    return SegmentDataset([f"u{i}" for i in range(n)], {"x": list(x)}, {"emotion": [int(v) for v in y]})

world = distributed.init("cpu")
config = TrainConfig(epochs=3, batch_size=8, l2=1e-3, device="cpu", threads=1, seed=0,
                     optimizer=OptimizerConfig(name="adam", lr=0.05))
torch.manual_seed(0)
model = MLP()
train = make_loader(data(33, 1), 8, True, 0)  # 33 = 4 x 8 + 1: the last batch leaves rank 1 empty
val = make_loader(data(20, 2), 8, False, 0)
ce = lambda out, target, mask=None: torch.nn.functional.cross_entropy(out, target)
accuracy = lambda p: float(np.mean(p.outputs["emotion"].argmax(1) == p.targets["emotion"]))
history = Trainer(config).fit(model, {"emotion": ce}, train, val, select=accuracy)
rank = world.rank if world else "single"
np.savez(f"{sys.argv[1]}/weights-{rank}.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
with open(f"{sys.argv[1]}/history-{rank}.json", "w") as f:
    json.dump(history.to_dict(), f)

class Split(Model):
    """Two heads updated one after the other in random order, with dropout (a custom training step)."""
    name = "split"
    def __init__(self):
        super().__init__()
        self.heads = [Head(h, "classification", ("a", "b", "c")) for h in ("one", "two")]
        self.body = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.3))
        self.out = torch.nn.ModuleDict({h.name: torch.nn.Linear(8, 3) for h in self.heads})
        self.orders = []
    def forward(self, inputs, lengths=None):
        z = self.body(inputs["x"])
        return {name: layer(z) for name, layer in self.out.items()}
    def training_step(self, batch, losses, step):
        values = {}
        self.orders.append([("one", "two"), ("two", "one")][int(torch.randint(2, ()))])
        for name in self.orders[-1]:
            loss = losses[name](self(batch.inputs)[name], batch.targets["emotion"])
            step(loss)
            values[name] = float(loss.detach())
        return values

if world:
    torch.manual_seed(0)
    split = Split()
    Trainer(config).fit(split, {"one": ce, "two": ce}, make_loader(data(37, 3), 8, True, 0))
    np.savez(f"{sys.argv[1]}/split-{rank}.npz", **{k: v.numpy() for k, v in split.state_dict().items()})
    with open(f"{sys.argv[1]}/orders-{rank}.json", "w") as f:
        json.dump(split.orders, f)
distributed.close()
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_ranks_match_a_single_process(tmp_path, monkeypatch):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()),
           "WORLD_SIZE": "2"}  # what torchrun sets for each rank
    ranks = [subprocess.Popen([sys.executable, str(script), str(tmp_path)], env={**env, "RANK": r, "LOCAL_RANK": r},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for r in ("0", "1")]
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(sys, "argv", [str(script), str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")  # the single-process reference, meanwhile
    for proc in ranks:
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output[-3000:]
    reference = np.load(tmp_path / "weights-single.npz", allow_pickle=False)
    for rank in (0, 1):
        weights = np.load(tmp_path / f"weights-{rank}.npz", allow_pickle=False)
        assert sorted(weights.files) == sorted(reference.files)
        for name in reference.files:
            np.testing.assert_allclose(weights[name], reference[name], atol=1e-5, rtol=0, err_msg=name)
    expected = json.loads((tmp_path / "history-single.json").read_text())
    for rank in (0, 1):  # pooled training losses and rank 0's validation scores: the single-process values
        got = json.loads((tmp_path / f"history-{rank}.json").read_text())
        assert got["best_epoch"] == expected["best_epoch"] and got["val_score"] == expected["val_score"]
        for a, b in zip(got["train_loss"], expected["train_loss"]):
            assert a["emotion"] == pytest.approx(b["emotion"], abs=1e-5)
    assert expected["train_loss"][-1]["emotion"] < expected["train_loss"][0]["emotion"] - 0.05  # it did learn
    # a custom step updating one head at a time in random order, with dropout and uneven shards:
    # every rank picks the same order at every step, and the weights stay identical
    orders = [json.loads((tmp_path / f"orders-{rank}.json").read_text()) for rank in (0, 1)]
    assert orders[0] == orders[1] and len(orders[0]) == 3 * 5 and len({tuple(o) for o in orders[0]}) == 2
    split = [np.load(tmp_path / f"split-{rank}.npz", allow_pickle=False) for rank in (0, 1)]
    for name in split[0].files:
        np.testing.assert_array_equal(split[0][name], split[1][name], err_msg=name)


def test_shards_are_disjoint_cover_each_batch_and_weight_the_mean():
    dataset = SegmentDataset([f"u{i}" for i in range(11)], {"x": [np.full(2, i, np.float32) for i in range(11)]},
                             {"emotion": [i % 2 for i in range(11)]})
    whole = [b.ids for b in make_loader(dataset, 4, True, seed=3)]  # every rank shuffles alike
    parts = [list(shard(make_loader(dataset, 4, True, seed=3), World(rank, 2, rank))) for rank in (0, 1)]
    assert len(parts[0]) == len(parts[1]) == len(whole) == 3
    for ids, (b0, w0), (b1, w1) in zip(whole, *parts):
        assert sorted(b0.ids + b1.ids) == sorted(ids) and not set(b0.ids) & set(b1.ids)
        assert w0 == pytest.approx(2 * len(b0.ids) / len(ids)) and w1 == pytest.approx(2 * len(b1.ids) / len(ids))
        # the weighted shard means average to the batch mean
        mean = lambda b: float(b.inputs["x"][:, 0].mean())
        batch_mean = np.mean([float(i[1:]) for i in ids])
        assert (w0 * mean(b0) + w1 * mean(b1)) / 2 == pytest.approx(batch_mean)
    three = list(shard(make_loader(dataset, 2, False, 0), World(2, 3, 2)))
    assert three[0][1] == 0.0 and three[0][0].ids == ["u0"]  # a batch of 2 leaves rank 2 of 3 without items
    assert three[-1][1] == 0.0  # the last batch (one item) too


def test_batch_must_divide_among_ranks_and_single_process_is_not_distributed(monkeypatch):
    assert check_batch(World(0, 4, 0), 32) == 8
    with pytest.raises(ConfigError, match=r"train.batch_size: 30 does not divide among the 4 torchrun processes"):
        check_batch(World(0, 4, 0), 30)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.launched() is None and distributed.current() is None and distributed.is_main()
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert distributed.launched() == World(1, 2, 0) and not distributed.is_main()


def test_a_rank_other_than_0_waits_for_the_features_and_writes_no_run_folder(tmp_path, monkeypatch):
    from sertk.engine.run import run_recipe
    from sertk.plugins import load_plugins
    from sertk.recipe import parse_recipe
    from sertk.registry import Registry

    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    registry = Registry.from_plugins(load_plugins(entry_points=False))
    recipe = parse_recipe({"corpus": {"name": "synthetic", "params": {"n_speakers": 3, "n_per_class": 4}},
                           "features": [{"name": "mfcc", "params": {"n_mfcc": 8}}],
                           "model": {"name": "mlp", "params": {"hidden": [8]}},
                           "train": {"epochs": 1, "batch_size": 8, "threads": 1, "device": "cpu"},
                           "protocol": {"name": "holdout_speakers", "params": {"n": 1}}, "metrics": ["ua"],
                           "output": {"dir": str(tmp_path / "runs")}}, registry=registry)
    calls = []
    monkeypatch.setattr(distributed, "init", lambda device: World(1, 2, 1))  # rank 1 of 2, no process group
    monkeypatch.setattr(distributed, "is_main", lambda: False)
    monkeypatch.setattr(distributed, "barrier", lambda: calls.append("barrier"))
    result = run_recipe(recipe, registry)
    assert calls == ["barrier"]  # waited once, before loading and extracting
    assert result.metrics == {} and len(result.folds) == 1 and not result.dir.exists()
    assert not (tmp_path / "runs").exists()


def test_a_failing_rank_other_than_0_leaves_no_temporary_folder(tmp_path):
    """Its run folder is a temporary one; a run that fails (here: no corpus) removes it at exit."""
    code = textwrap.dedent(f"""
        from sertk.engine import distributed
        from sertk.engine.distributed import World
        from sertk.engine.run import run_recipe
        from sertk.plugins import load_plugins
        from sertk.recipe import parse_recipe
        from sertk.registry import Registry

        registry = Registry.from_plugins(load_plugins(entry_points=False))
        recipe = parse_recipe({{"corpus": {{"name": "manifest", "params": {{"root": {str(tmp_path / 'none')!r}}}}},
                               "features": [{{"name": "mfcc"}}], "model": {{"name": "mlp"}}, "protocol": "loso",
                               "metrics": ["ua"], "output": {{"dir": {str(tmp_path / 'runs')!r}}}}}, registry=registry)
        distributed.init = lambda device: World(1, 2, 1)
        distributed.is_main = lambda: False
        distributed.barrier = lambda: None
        run_recipe(recipe, registry)
    """)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode != 0 and "manifest" in done.stderr
    assert not list(scratch.glob("sertk-rank1-*"))
