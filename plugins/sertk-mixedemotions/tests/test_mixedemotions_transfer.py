"""Transfer across corpora (MixedEmotions D4.2 §2.3.1): CCA alignment and sparse-autoencoder
feature transfer improve target-domain accuracy over no adaptation on synthetic domain shifts;
the CCA and the autoencoder objective against hand computation; the mapping travels inside the
saved model; the cross-corpus recipes validate and one runs end to end on generated corpora."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from sklearn.linear_model import LogisticRegression

from sertk import FeatureInfo, LabelSpace
from sertk_mixedemotions.transfer import (SOURCE, TARGET, MappedMLP, SparseAutoencoder, cca, fit_cca_alignment,
                                          fit_sparse_autoencoder, sparse_autoencoder_loss)

RECIPES = Path(__file__).resolve().parents[3] / "recipes"
TRANSFER = ["cross_corpus_cca_emodb_synthetic", "cross_corpus_autoencoder_emodb_synthetic"]


def zscored_by_source(xs, xt):
    """Both domains z-scored with the source's statistics, as the engine normalises a fold."""
    mu, sd = xs.mean(0), xs.std(0)
    return (xs - mu) / sd, (xt - mu) / sd


def affine_shift(seed: int, d: int = 10, n: int = 300):
    """Three Gaussian classes; the target domain is the source rotated (0.6 rad in every plane
    pair of a random basis), scaled per dimension (0.5–2) and shifted (3 units per dimension)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 1.5, (3, d))
    ys, yt = rng.integers(0, 3, n), rng.integers(0, 3, n)
    xs, xt = means[ys] + rng.normal(0, 1, (n, d)), means[yt] + rng.normal(0, 1, (n, d))
    basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
    plane = np.eye(d)
    for i in range(0, d - 1, 2):
        plane[i:i + 2, i:i + 2] = [[np.cos(0.6), -np.sin(0.6)], [np.sin(0.6), np.cos(0.6)]]
    rotation = basis @ plane @ basis.T
    xt = (xt @ rotation.T) * rng.uniform(0.5, 2.0, d) + 3.0 * rng.normal(size=d)
    return (*zscored_by_source(xs, xt), ys, yt)


def missing_cue(seed: int, d: int = 10, n: int = 300):
    """Three Gaussian classes in d dimensions; in the source the last dimension is also a strong
    class cue, in the target it is a constant 3 units away (a cue the target domain lacks)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 0.8, (3, d))
    ys, yt = rng.integers(0, 3, n), rng.integers(0, 3, n)
    xs, xt = means[ys] + rng.normal(0, 1, (n, d)), means[yt] + rng.normal(0, 1, (n, d))
    xs[:, -1] = np.array([-2.0, 0.0, 2.0])[ys] + rng.normal(0, 0.3, n)
    xt[:, -1] = 3.0 + rng.normal(0, 0.05, n)
    return (*zscored_by_source(xs, xt), ys, yt)


def accuracy(train_x, train_y, test_x, test_y) -> float:
    model = LogisticRegression(max_iter=2000).fit(train_x, train_y)
    return float((model.predict(test_x) == test_y).mean())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cca_alignment_improves_target_accuracy_on_an_affine_shift(seed):
    xs, xt, ys, yt = affine_shift(seed)
    none = accuracy(xs, ys, xt, yt)
    fitted = fit_cca_alignment(xs, xt, components=10)
    aligned = [(x - fitted["mean"][d]) @ fitted["projection"][d] for d, x in ((SOURCE, xs), (TARGET, xt))]
    cca_score = accuracy(aligned[0], ys, aligned[1], yt)
    assert cca_score > none + 0.1, (none, cca_score)  # measured: 0.830/0.827/0.757 -> 0.973/0.977/0.903


@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_autoencoder_transfer_improves_target_accuracy_when_the_target_lacks_a_cue(seed):
    xs, xt, ys, yt = missing_cue(seed)
    none = accuracy(xs, ys, xt, yt)
    ae = fit_sparse_autoencoder(xt, hidden=64)
    with torch.no_grad():
        reconstructed = ae.reconstruct(torch.as_tensor(xs, dtype=torch.float32)).numpy()
    sae = accuracy(reconstructed, ys, xt, yt)
    assert sae > none + 0.3, (none, sae)  # measured: 0.397/0.473 -> 0.890/0.883


def test_cca_recovers_a_linear_pairing_with_unit_variance_variates():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 4))
    b = a @ rng.normal(size=(4, 4)) + 0.01 * rng.normal(size=(500, 4))
    a, b = a - a.mean(0), b - b.mean(0)
    wa, wb, corr = cca(a, b, 3, 0.0)
    np.testing.assert_allclose(corr, 1.0, atol=1e-3)
    np.testing.assert_allclose((a @ wa).var(0), 1.0, atol=1e-6)
    np.testing.assert_allclose(a @ wa, b @ wb, atol=0.05)


def test_sparse_autoencoder_objective_by_hand():
    torch.manual_seed(0)
    ae = SparseAutoencoder(3, 2)
    x = torch.randn(5, 3)
    w1, b1 = ae.encoder.weight.detach().numpy(), ae.encoder.bias.detach().numpy()
    w2, b2 = ae.decoder.weight.detach().numpy(), ae.decoder.bias.detach().numpy()
    xn = x.numpy()
    h = 1 / (1 + np.exp(-(xn @ w1.T + b1)))
    error = 0.5 * ((h @ w2.T + b2 - xn) ** 2).sum(1).mean()
    rho, rho_hat = 0.1, h.mean(0)
    kl = (rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))).sum()
    hand = error + 0.5 * 0.01 * ((w1 ** 2).sum() + (w2 ** 2).sum()) + 2.0 * kl
    assert float(sparse_autoencoder_loss(ae, x, 0.1, 2.0, 0.01).detach()) == pytest.approx(hand, rel=1e-5)


@pytest.mark.parametrize("mapping", ["cca", "autoencoder"])
def test_the_mapping_is_frozen_saved_with_the_model_and_applied_per_domain(mapping):
    labels = LabelSpace({"emotion": ("anger", "sadness")})
    inputs = {"mfcc": FeatureInfo("mfcc", 3, "frame", 100.0)}
    model = MappedMLP(inputs, labels, mapping=mapping, components=4, hidden=[5]).eval()
    assert not any(p.requires_grad for p in model.mapping.parameters())
    assert all(p.ndim < 2 or p.requires_grad for n, p in model.named_parameters() if n.startswith("classifier"))
    x = torch.randn(2, 7, 3)
    pooled = model.pool({"mfcc": x})
    torch.testing.assert_close(pooled, torch.cat([x.mean(1), x.std(1, unbiased=False)], 1), rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        if mapping == "cca":
            model.mapping.mean.copy_(torch.randn(2, 6))
            model.mapping.projection.copy_(torch.randn(2, 6, 4))
        else:
            model.mapping.encoder.weight.copy_(torch.randn(4, 6))
    model.mapping.domain.fill_(TARGET)
    reopened = MappedMLP(inputs, labels, mapping=mapping, components=4, hidden=[5]).eval()
    reopened.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(reopened({"mfcc": x})["emotion"], model({"mfcc": x})["emotion"])
        m = model.mapping
        expected_target = (pooled - m.mean[1]) @ m.projection[1] if mapping == "cca" else pooled
        torch.testing.assert_close(m(pooled), expected_target)
        m.domain.fill_(SOURCE)
        expected_source = (pooled - m.mean[0]) @ m.projection[0] if mapping == "cca" else m.reconstruct(pooled)
        torch.testing.assert_close(m(pooled), expected_source)


def test_cca_components_above_the_pooled_size_fail_naming_the_param(registry):
    from sertk import ConfigError

    labels = LabelSpace({"emotion": ("anger", "sadness")})
    with pytest.raises((ValueError, ConfigError), match="components"):
        registry.build("models", {"name": "mapped_mlp", "params": {"components": 7}},
                       inputs={"f": FeatureInfo("f", 3, "frame", 100.0)}, labels=labels)


@pytest.mark.parametrize("name", TRANSFER)
def test_transfer_recipes_validate(name, tmp_path):
    from click.testing import CliRunner

    from sertk.cli import main

    text = (RECIPES / f"{name}.yaml").read_text()
    assert "D4.2" in text and "ransductive" in text and f"sertk run recipes/{name}.yaml" in text
    done = CliRunner().invoke(main, ["validate", str(RECIPES / f"{name}.yaml"), "--set",
                                     f"corpus.0.params.root={tmp_path}"])  # names and params only
    assert done.exit_code == 0 and ": ok" in done.output, done.output
    bad = CliRunner().invoke(main, ["validate", str(RECIPES / f"{name}.yaml"), "--set", "model.params.mapping=pca"])
    assert bad.exit_code != 0 and "model.params.mapping" in bad.output


def build_emodb(root: Path) -> Path:
    """EmoDB's layout (``wav/SSTTTEV.wav``): 4 speakers × anger, happiness, sadness, neutral × 2
    texts, tones whose pitch and level follow the emotion."""
    rng = np.random.default_rng(0)
    (root / "wav").mkdir(parents=True)
    tones = {"W": (220, 0.5), "F": (260, 0.3), "T": (110, 0.05), "N": (150, 0.15)}
    t = np.arange(8000) / 16000
    for speaker in ("03", "08", "09", "10"):
        for letter, (f0, level) in tones.items():
            for text in ("a01", "a02"):
                signal = level * np.sin(2 * np.pi * f0 * t) + 0.005 * rng.standard_normal(len(t))
                sf.write(root / "wav" / f"{speaker}{text}{letter}a.wav", signal.astype(np.float32), 16000)
    return root


@pytest.mark.parametrize("name", TRANSFER)
def test_transfer_recipe_runs_end_to_end_on_generated_corpora(name, registry, trees, tmp_path):
    import json

    overrides = [f"corpus.0.params.root={build_emodb(tmp_path / 'emodb')}", "corpus.1.params.n_speakers=2",
                 "corpus.1.params.n_per_class=2", f"corpus.1.params.cache_dir={tmp_path / 'synthetic'}",
                 "data.cache=false", "data.workers=1", "train.epochs=2", "model.params.components=8",
                 "strategy.params.iterations=20"]
    result = trees["run"](RECIPES / f"{name}.yaml", registry, tmp_path / "runs", overrides)
    emotion = result.metrics["heads"]["emotion"]
    assert emotion["n"] == 2 * 4 * 2 and 0 <= emotion["pooled"]["ua"] <= 1  # every synthetic utterance
    folds = json.loads((result.dir / "folds.json").read_text())["test-synthetic"]
    assert all(i.startswith("emodb/") for i in folds["train"] + folds["validation"])
    state = torch.load(result.dir / "folds" / "test-synthetic" / "model.pt", weights_only=True)
    assert int(state["mapping.domain"]) == TARGET  # saved switched to the test corpus
