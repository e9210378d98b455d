"""Trainer, optimiser, schedule and config behaviour on tiny generated problems."""
import math

import numpy as np
import pytest
import torch

from sertk.settings import OptimizerConfig, ScheduleConfig, TrainConfig
from sertk.engine.optim import EpochSchedule, build_optimizer
from sertk.engine.trainer import History, Trainer, l2_penalty, resolve_device, seed_everything
from sertk.errors import ConfigError, SertkError
from sertk.interfaces import Head
from sertk.model import Batch, Model


class Toy(Model):
    """One linear classification head on input stream ``x``."""

    name = "toy"

    def __init__(self, dim=2, n_classes=2, dropout=0.0):
        super().__init__()
        self.heads = [Head("emotion", "classification", tuple("abcdefg"[:n_classes]))]
        self.drop = torch.nn.Dropout(dropout)
        self.fc = torch.nn.Linear(dim, n_classes)

    def forward(self, inputs, lengths=None):
        return {"emotion": self.fc(self.drop(inputs["x"]))}


class CE:
    def __call__(self, output, target, mask=None):
        return torch.nn.functional.cross_entropy(output, target)


def loader(x, y, size=16, head="emotion"):
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
    return [Batch(ids=[f"u{i}" for i in range(s, min(s + size, len(x)))], inputs={"x": torch.from_numpy(x[s:s + size])},
                  targets={head: torch.from_numpy(y[s:s + size])}) for s in range(0, len(x), size)]


def blobs(n, seed, dim=2, shift=2.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, dim)) + shift * (2 * y[:, None] - 1)
    return x, y


def config(**kw):
    opt = kw.pop("optimizer", OptimizerConfig(name="adam", lr=0.05))
    return TrainConfig(optimizer=opt, device="cpu", **kw)


def test_trainer_learns_separable_problem_above_chance():
    seed_everything(0)
    model = Toy()
    x, y = blobs(200, seed=1)
    xt, yt = blobs(100, seed=2)
    history = Trainer(config(epochs=10)).fit(model, {"emotion": CE()}, loader(x, y))
    pred = Trainer(config()).predict(model, loader(xt, yt))
    accuracy = np.mean(pred.outputs["emotion"].argmax(1) == yt)
    assert accuracy > 0.9
    assert history.epochs == 10 and history.best_epoch == 10 and history.val_score == [None] * 10
    assert history.train_loss[-1]["emotion"] < history.train_loss[0]["emotion"]
    np.testing.assert_allclose(pred.outputs["emotion"].sum(1), 1, rtol=1e-5)
    assert pred.ids == [f"u{i}" for i in range(100)]
    np.testing.assert_array_equal(pred.targets["emotion"], yt)


def test_early_stopping_stops_after_patience_and_restores_best_epoch():
    seed_everything(0)
    model = Toy()
    x, y = blobs(64, seed=3)
    scripted = [0.1, 0.5, 0.3, 0.2, 0.4, 0.9, 0.9, 0.9]
    snapshots = []

    def select(_predictions):
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return scripted[len(snapshots) - 1]

    cfg = config(epochs=8, optimizer=OptimizerConfig(name="sgd", lr=0.5))
    cfg.early_stopping.patience = 3
    history = Trainer(cfg).fit(model, {"emotion": CE()}, loader(x, y), loader(x, y), select)
    assert history.epochs == 5 and history.stopped_early and history.best_epoch == 2
    assert history.val_score == scripted[:5]
    assert not torch.equal(snapshots[1]["fc.weight"], snapshots[-1]["fc.weight"])
    for key, value in model.state_dict().items():
        assert torch.equal(value, snapshots[1][key])


def test_early_stopping_respects_min_epochs_and_lower_is_better():
    model = Toy()
    x, y = blobs(32, seed=4)
    scripted = iter([0.5, 0.1, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])
    cfg = config(epochs=10)
    cfg.early_stopping.patience, cfg.early_stopping.min_epochs = 2, 7
    history = Trainer(cfg).fit(model, {"emotion": CE()}, loader(x, y), loader(x, y), lambda _: next(scripted),
                               greater_is_better=False)
    assert history.best_epoch == 2 and history.epochs == 7


def test_validation_loss_is_the_default_score():
    seed_everything(0)
    model = Toy()
    x, y = blobs(64, seed=5)
    trainer = Trainer(config(epochs=3))
    history = trainer.fit(model, {"emotion": CE()}, loader(x, y), loader(x[:32], y[:32]))
    assert history.val_score[history.best_epoch - 1] == min(history.val_score)
    assert trainer.validation_loss(model, {"emotion": CE()}, loader(x[:32], y[:32])) == pytest.approx(
        min(history.val_score), rel=1e-5)


class TwoHeads(Model):
    """Two heads updated alternately, each with its own forward pass and step."""

    name = "two_heads"

    def __init__(self):
        super().__init__()
        self.heads = [Head("a", "classification", ("0", "1")), Head("b", "classification", ("0", "1"))]
        self.fa, self.fb = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
        self.steps = 0

    def forward(self, inputs, lengths=None):
        return {"a": self.fa(inputs["x"]), "b": self.fb(inputs["x"])}

    def training_step(self, batch, losses, step):
        out = {}
        for name in ("a", "b"):
            loss = losses[name](self(batch.inputs)[name], batch.targets[name])
            step(loss)
            self.steps += 1
            out[name] = float(loss.detach())
        return out


def test_overridden_training_step_is_used_and_may_step_twice():
    model = TwoHeads()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = blobs(48, seed=6)
    batches = loader(x, y)
    for b in batches:
        b.targets = {"a": b.targets["emotion"], "b": 1 - b.targets["emotion"]}
    history = Trainer(config(epochs=2)).fit(model, {"a": CE(), "b": CE()}, batches)
    assert model.steps == 2 * len(batches) * 2
    assert set(history.train_loss[0]) == {"a", "b"}
    for key, value in model.state_dict().items():
        assert not torch.equal(value, before[key])


def test_l2_penalty_matches_hand_computation_and_its_gradient():
    model = Toy(dim=3, n_classes=2)
    w = model.fc.weight.detach().clone()
    assert float(l2_penalty(model).detach()) == pytest.approx(float((w ** 2).sum()), rel=1e-6)
    assert float(l2_penalty(model, "norm").detach()) == pytest.approx(float((w ** 2).sum().sqrt()), rel=1e-6)

    class ZeroLoss(Toy):
        def training_step(self, batch, losses, step):
            step(0 * self(batch.inputs)["emotion"].sum())
            return {"emotion": 0.0}

    model = ZeroLoss(dim=3)
    w, b = model.fc.weight.detach().clone(), model.fc.bias.detach().clone()
    cfg = config(epochs=1, l2=0.5, optimizer=OptimizerConfig(name="sgd", lr=0.1))
    x, y = blobs(4, seed=7, dim=3)
    Trainer(cfg).fit(model, {"emotion": CE()}, loader(x, y, size=4))
    # d/dw of 0.5·‖w‖² is w, so one SGD step with lr 0.1 scales the weights by 0.9; biases are not penalised.
    torch.testing.assert_close(model.fc.weight.detach(), 0.9 * w)
    torch.testing.assert_close(model.fc.bias.detach(), b)

    # d/dw of 0.5·‖w‖₂ is 0.5·w/‖w‖₂: the unsquared form of Wieser et al. 2020, eq. 3.
    model = ZeroLoss(dim=3)
    w = model.fc.weight.detach().clone()
    cfg = config(epochs=1, l2=0.5, l2_form="norm", optimizer=OptimizerConfig(name="sgd", lr=0.1))
    Trainer(cfg).fit(model, {"emotion": CE()}, loader(x, y, size=4))
    torch.testing.assert_close(model.fc.weight.detach(), w - 0.1 * 0.5 * w / w.norm())


def test_clip_norm_bounds_the_update():
    model = Toy()
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    x, y = blobs(16, seed=8, shift=50.0)
    cfg = config(epochs=1, clip_norm=1e-3, optimizer=OptimizerConfig(name="sgd", lr=1.0))
    Trainer(cfg).fit(model, {"emotion": CE()}, loader(x, y, size=16))
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert 0 < float((after - before).norm()) <= 1e-3 * (1 + 1e-4)


def test_exponential_schedule_decays_per_epoch_with_floor():
    cfg = config(epochs=6, optimizer=OptimizerConfig(name="sgd", lr=0.1),
                 schedule=ScheduleConfig(name="exponential", gamma=0.5, min_lr=0.01))
    x, y = blobs(16, seed=9)
    history = Trainer(cfg).fit(Toy(), {"emotion": CE()}, loader(x, y))
    expected = [max(0.1 * 0.5 ** k, 0.01) for k in range(6)]
    np.testing.assert_allclose(history.lr, expected, rtol=1e-9)
    assert history.lr[-1] == pytest.approx(0.01)


def test_plateau_schedule_reduces_on_stalled_score_down_to_floor():
    opt = build_optimizer(Toy().parameters(), OptimizerConfig(name="sgd", lr=0.1))
    schedule = EpochSchedule(opt, ScheduleConfig(name="plateau", factor=0.5, patience=1, min_lr=0.03), mode="max")
    lrs = []
    for score in [0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]:
        schedule.step(score)
        lrs.append(schedule.lr)
    assert lrs[:3] == [0.1, 0.1, 0.1]
    assert lrs[3] == pytest.approx(0.05)
    assert lrs[-1] == pytest.approx(0.03)


def test_optimizer_settings_reach_torch():
    params = list(Toy().parameters())
    sgd = build_optimizer(params, OptimizerConfig(name="sgd", lr=0.1, momentum=0.9, nesterov=True))
    assert isinstance(sgd, torch.optim.SGD)
    assert sgd.param_groups[0]["nesterov"] is True and sgd.param_groups[0]["momentum"] == 0.9
    assert sgd.param_groups[0]["weight_decay"] == 0
    rms = build_optimizer(params, OptimizerConfig(name="rmsprop", lr=0.01, momentum=0.5))
    assert isinstance(rms, torch.optim.RMSprop) and rms.param_groups[0]["momentum"] == 0.5
    assert isinstance(build_optimizer(params, OptimizerConfig(name="adagrad")), torch.optim.Adagrad)
    assert isinstance(build_optimizer(params, OptimizerConfig(name="adam", lr=0.002)), torch.optim.Adam)


@pytest.mark.parametrize("make, key", [
    (lambda: OptimizerConfig(lr=0), "train.optimizer.lr"),
    (lambda: OptimizerConfig(name="sgd", nesterov=True), "train.optimizer.nesterov"),
    (lambda: OptimizerConfig(name="lbfgs"), "train.optimizer.name"),
    (lambda: ScheduleConfig(gamma=1.5), "train.schedule.gamma"),
    (lambda: TrainConfig(device="gpu"), "train.device"),
    (lambda: TrainConfig(epochs=0), "train.epochs"),
    (lambda: TrainConfig(schedule=ScheduleConfig(min_lr=1.0)), "train.schedule.min_lr"),
])
def test_config_errors_name_the_recipe_key(make, key):
    with pytest.raises(ConfigError) as info:
        make()
    assert info.value.key == key


def test_same_seed_gives_identical_training():
    x, y = blobs(64, seed=10)
    states = []
    for _ in range(2):
        seed_everything(3)
        model = Toy(dropout=0.5)
        Trainer(config(epochs=3, seed=3)).fit(model, {"emotion": CE()}, loader(x, y))
        states.append(model.state_dict())
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key])


def test_diverging_training_fails_with_a_hint():
    class NaNLoss(Toy):
        def training_step(self, batch, losses, step):
            loss = self(batch.inputs)["emotion"].sum() * math.nan
            step(loss)
            return {"emotion": float(loss.detach())}

    x, y = blobs(8, seed=11)
    with pytest.raises(SertkError, match="diverged.*train.optimizer.lr"):
        Trainer(config(epochs=2)).fit(NaNLoss(), {"emotion": CE()}, loader(x, y))


def test_losses_with_prepare_see_all_training_targets():
    seen = {}

    class Preparing(CE):
        def prepare(self, head, targets):
            seen[head.name] = targets

    x, y = blobs(40, seed=12)
    Trainer(config(epochs=1)).fit(Toy(), {"emotion": Preparing()}, loader(x, y))
    np.testing.assert_array_equal(seen["emotion"], y)
    with pytest.raises(SertkError, match="no loss for model head"):
        Trainer(config(epochs=1)).fit(Toy(), {"arousal": CE()}, loader(x, y))


class FrameRegressor(Model):
    name = "frames"

    def __init__(self):
        super().__init__()
        self.heads = [Head("arousal", "regression", level="frame")]
        self.fc = torch.nn.Linear(3, 1)

    def forward(self, inputs, lengths=None):
        return {"arousal": self.fc(inputs["x"]).squeeze(-1)}


def test_predict_pads_frame_level_heads_with_masks():
    rng = np.random.default_rng(13)
    batches = []
    for start, (b, t) in enumerate([(2, 5), (3, 7)]):
        lengths = torch.tensor([t, t - 2] + [t - 1] * (b - 2))
        mask = torch.arange(t)[None, :] < lengths[:, None]
        batches.append(Batch(ids=[f"{start}-{i}" for i in range(b)],
                             inputs={"x": torch.tensor(rng.normal(size=(b, t, 3)), dtype=torch.float32)},
                             lengths={"x": lengths}, targets={"arousal": torch.zeros(b, t)},
                             target_masks={"arousal": mask}))
    pred = Trainer(config()).predict(FrameRegressor(), batches)
    assert pred.outputs["arousal"].shape == (5, 7) and pred.targets["arousal"].shape == (5, 7)
    np.testing.assert_array_equal(pred.masks["arousal"].sum(1), [5, 3, 7, 5, 6])
    assert not pred.masks["arousal"][:2, 5:].any()


def test_history_round_trips_through_a_dict_and_devices_resolve():
    history = History([{"emotion": 1.0}], [0.5], [0.1], best_epoch=1)
    assert History.from_dict(history.to_dict()) == history
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            resolve_device("cuda")
