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
