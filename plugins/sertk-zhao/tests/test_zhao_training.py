"""Tiny versions of both networks learn toy problems well above chance."""
import numpy as np
import pytest
import torch

from sertk import FeatureInfo, LabelSpace
from sertk_zhao.models import CNN1DLSTM, CNN2DLSTM

TINY = {"filters": [4, 4, 8, 8], "lstm_units": 8}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks gain nothing from threads, and thread spinning slows them on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def fit_and_score(model, key, make, steps=60, batch=16, lr=0.01):
    """Train with Adam on fresh toy batches; accuracy on an unseen batch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        x, y = make(batch)
        loss = torch.nn.functional.cross_entropy(model({key: x})["emotion"], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    x, y = make(96)
    with torch.no_grad():
        return float((model({key: x})["emotion"].argmax(1) == y).float().mean())


def test_1d_network_tells_low_from_high_tones():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    t = np.arange(1024) / 8000.0

    def make(n):
        y = rng.integers(0, 2, n)
        freq = np.where(y == 0, 150.0, 1800.0)[:, None] * rng.uniform(0.9, 1.1, (n, 1))
        x = rng.uniform(0.3, 1.0, (n, 1)) * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6.3, (n, 1)))
        x = x + 0.1 * rng.standard_normal(x.shape)
        return torch.tensor(x[:, :, None], dtype=torch.float32), torch.tensor(y)

    labels = LabelSpace(classes={"emotion": ("low", "high")})
    model = CNN1DLSTM({"raw": FeatureInfo("raw", 1, "frame", 8000.0)}, labels, **TINY)
    assert fit_and_score(model, "raw", make) > 0.85


def test_2d_network_finds_the_bright_mel_band():
    rng = np.random.default_rng(1)
    torch.manual_seed(1)

    def make(n):
        y = rng.integers(0, 3, n)
        x = rng.standard_normal((n, 40, 48))
        for i, band in enumerate(y):
            x[i, :, band * 16:(band + 1) * 16] += 1.5
        return torch.tensor(x, dtype=torch.float32), torch.tensor(y)

    labels = LabelSpace(classes={"emotion": ("low", "mid", "high")})
    model = CNN2DLSTM({"logmel": FeatureInfo("logmel", 48, "frame")}, labels, **TINY)
    assert fit_and_score(model, "logmel", make) > 0.8


def test_activity_penalty_is_the_sum_of_squared_block_outputs_and_is_stepped_on():
    """§3.3's "layer activity" penalty: α·Σa²/B over the LFLB outputs, added to the stepped loss."""
    from sertk import Batch

    torch.manual_seed(3)
    labels = LabelSpace(classes={"emotion": ("low", "high")})
    make = lambda a: CNN1DLSTM({"raw": FeatureInfo("raw", 1, "frame", 8000.0)}, labels, activity_l2=a, **TINY)
    model = make(0.5).train()
    x = torch.randn(3, 512, 1)
    model({"raw": x})
    h, expected = x, 0.0  # 1-D blocks take (B, T, C) sequences
    with torch.no_grad():
        for block in model.blocks:
            h = block(h)
            expected += float(h.pow(2).sum()) / 3
    assert float(model.activity.detach()) == pytest.approx(expected, rel=1e-5)

    batch = Batch(["a", "b", "c"], {"raw": x}, targets={"emotion": torch.tensor([0, 1, 0])})
    stepped = []
    model.training_step(batch, {"emotion": lambda out, y, mask=None: torch.nn.functional.cross_entropy(out, y)},
                        lambda loss: stepped.append(float(loss.detach())))
    plain = float(torch.nn.functional.cross_entropy(model({"raw": x})["emotion"], batch.targets["emotion"]).detach())
    assert stepped[0] == pytest.approx(plain + 0.5 * float(model.activity.detach()), rel=1e-4)
    model.eval()
    model({"raw": x})
    assert float(model.activity.detach()) == 0.0  # nothing is penalised at test time
    with pytest.raises(ValueError, match="activity_l2 must be >= 0"):
        make(-1.0)
