"""Transfer learning: pretrained weights into a named sub-network, frozen
sub-networks kept bit-identical (batch-norm statistics included), per-module
learning rates, and the training-loop options (fixed epochs, lr floor,
SortaGrad order, callbacks)."""
import json

import numpy as np
import pytest
import torch

from sertk.data.batching import EpochLoader
from sertk.engine.trainer import Trainer
from sertk.engine.transfer import load_pretrained, parameter_groups
from sertk.errors import ConfigError
from sertk.interfaces import Head
from sertk.model import Batch, Model
from sertk.settings import OptimizerConfig, PretrainedConfig, ScheduleConfig, TrainConfig


class Net(Model):
    name = "net"

    def __init__(self):
        super().__init__()
        self.heads = [Head("emotion", "classification", ("a", "b"))]
        self.encoder = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                           torch.nn.Dropout(0.5))
        self.head = torch.nn.Linear(8, 2)

    def forward(self, inputs, lengths=None):
        return {"emotion": self.head(self.encoder(inputs["x"]))}


class CE:
    def __call__(self, output, target, mask=None):
        return torch.nn.functional.cross_entropy(output, target)


def batches(n=64, size=16, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = (rng.normal(size=(n, 3)) + 2 * y[:, None]).astype(np.float32)
    return [Batch([f"u{i}" for i in range(s, s + size)], {"x": torch.from_numpy(x[s:s + size])},
                  targets={"emotion": torch.from_numpy(y[s:s + size])}) for s in range(0, n, size)]


def config(**kw):
    return TrainConfig(optimizer=kw.pop("optimizer", OptimizerConfig(name="sgd", lr=0.1, momentum=0.9)),
                       device="cpu", **kw)


def pretrained_file(tmp_path):
    torch.manual_seed(7)
    source = Net()
    source.train()
    for b in batches():  # give the batch-norm statistics non-default values
        source(b.inputs)
    path = tmp_path / "asr.pt"
    torch.save(source.state_dict(), path)
    return source, path


def test_pretrained_frozen_subnetwork_is_bit_identical_after_training(tmp_path):
    source, path = pretrained_file(tmp_path)
    model = Net()
    load_pretrained(model, [PretrainedConfig(module="encoder", source=str(path), prefix="encoder")], "fold")
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    for k, v in source.encoder.state_dict().items():
        assert torch.equal(before[k], v)
    head_before = model.head.weight.detach().clone()
    Trainer(config(epochs=3, freeze=["encoder"], l2=1e-3)).fit(model, {"emotion": CE()}, batches())
    after = model.encoder.state_dict()
    for k in before:  # weights, running mean/var and num_batches_tracked
        assert torch.equal(before[k], after[k]), k
    assert not torch.equal(head_before, model.head.weight)


def test_unfrozen_batch_norm_statistics_do_change(tmp_path):
    model = Net()
    before = model.encoder[1].running_mean.clone()
    Trainer(config(epochs=1)).fit(model, {"emotion": CE()}, batches())
    assert not torch.equal(before, model.encoder[1].running_mean)


def test_pretrained_from_a_run_directory_and_errors(tmp_path):
    source, path = pretrained_file(tmp_path)
    run = tmp_path / "run"
    (run / "folds" / "speaker-03").mkdir(parents=True)
    (run / "folds.json").write_text(json.dumps({"speaker-03": {}}))
    torch.save(source.state_dict(), run / "folds" / "speaker-03" / "model.pt")
    model = Net()
    load_pretrained(model, [PretrainedConfig(module="", source=str(run))], "other-fold")
    assert torch.equal(model.head.weight, source.head.weight)
    with pytest.raises(ConfigError, match="no sub-network 'decoder'.*'encoder', 'head'"):
        load_pretrained(Net(), [PretrainedConfig(module="decoder", source=str(path))], "f")
    with pytest.raises(ConfigError, match="does not fit sub-network 'head'"):
        load_pretrained(Net(), [PretrainedConfig(module="head", source=str(path), prefix="encoder")], "f")
    with pytest.raises(ConfigError, match="no model for fold 'speaker-09'"):
        load_pretrained(Net(), [PretrainedConfig(module="", source=str(run), fold="same")], "speaker-09")
    wider = torch.nn.Linear(3, 16)
    torch.save({"0.weight": wider.weight, "0.bias": wider.bias}, tmp_path / "wider.pt")
    with pytest.raises(ConfigError, match="other layer sizes than sub-network 'encoder'.*size mismatch"):
        load_pretrained(Net(), [PretrainedConfig(module="encoder", source=str(tmp_path / "wider.pt"))], "f")
    evil = tmp_path / "evil.pt"
    evil.write_bytes(b"\x80\x04\x95not a checkpoint")
    with pytest.raises(ConfigError, match="not a loadable weights file"):
        load_pretrained(Net(), [PretrainedConfig(module="", source=str(evil))], "f")


def test_module_learning_rates_form_parameter_groups():
    model = Net()
    groups = parameter_groups(model, 0.1, {"encoder": 0.001})
    lrs = sorted((g["lr"], sum(p.numel() for p in g["params"])) for g in groups)
    assert lrs == [(0.001, 3 * 8 + 8 + 8 + 8), (0.1, 8 * 2 + 2)]


def test_fixed_epochs_keep_the_last_weights_without_early_stopping():
    val = batches(seed=1)
    scores = iter([0.9, 0.1, 0.1, 0.1, 0.1, 0.1])  # best epoch 1; patience 1 would stop at 2
    cfg = config(epochs=6, select="last")
    cfg.early_stopping.patience = 1
    history = Trainer(cfg).fit(Net(), {"emotion": CE()}, batches(), val, select=lambda p: next(scores))
    assert history.epochs == 6 and history.best_epoch == 6 and not history.stopped_early


def test_training_stops_when_the_learning_rate_reaches_its_floor():
    cfg = config(epochs=50, stop_at_lr=0.1 / 1.1 ** 3 * 1.0001,
                 schedule=ScheduleConfig(name="exponential", gamma=1 / 1.1))
    history = Trainer(cfg).fit(Net(), {"emotion": CE()}, batches())
    assert history.epochs == 3 and history.stopped_early


def test_callbacks_see_every_epoch_and_can_stop():
    seen = []
    trainer = Trainer(config(epochs=10), callbacks=[lambda end: seen.append(end.epoch) or end.epoch == 4])
    history = trainer.fit(Net(), {"emotion": CE()}, batches())
    assert seen == [1, 2, 3, 4] and history.epochs == 4


def test_epoch_loaders_give_each_epoch_its_own_batches():
    asked = []

    def make(epoch):
        asked.append(epoch)
        return batches(seed=epoch)
    Trainer(config(epochs=3)).fit(Net(), {"emotion": CE()}, EpochLoader(make))
    assert asked == [1, 2, 3]
