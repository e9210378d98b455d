"""Transfer across corpora, languages and domains (MixedEmotions D4.2, executive summary and
§2.3.1): a classifier on pooled features behind a frozen mapping that a strategy learns from
the training corpora's and the test corpus's unlabelled features (transductive) — CCA
alignment into a shared space, or a sparse autoencoder trained on the target domain through
which the source features are reconstructed (Deng et al., ACII 2013)."""
from __future__ import annotations

from typing import Literal, Optional

import numpy as np
import torch

from sertk import FeatureInfo, LabelSpace, Model, SertkError, Strategy
from sertk.nn import mean_std_pool, target_head

SOURCE, TARGET = 0, 1


class CCAMap(torch.nn.Module):
    """x of domain d → (x − mean[d]) · projection[d]: each domain's own centring and canonical
    directions into one shared space; ``domain`` (a buffer) says which domain the model reads
    (0: the training corpora, 1: the test corpus).  Unfitted: the first ``components`` inputs."""

    def __init__(self, dim: int, components: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(2, dim))
        self.register_buffer("projection", torch.eye(dim, components).repeat(2, 1, 1))
        self.register_buffer("domain", torch.tensor(SOURCE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = int(self.domain)
        return (x - self.mean[d]) @ self.projection[d]


class SparseAutoencoder(torch.nn.Module):
    """One sigmoid hidden layer and a linear decoder.  In a model it is frozen: with ``domain``
    0 (the training corpora) it reconstructs its input, with 1 (the test corpus, on which it was
    trained) it passes the input through, as Deng et al. test on the target features; an
    unfitted one passes everything through."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.encoder, self.decoder = torch.nn.Linear(dim, hidden), torch.nn.Linear(hidden, dim)
        self.register_buffer("domain", torch.tensor(TARGET))

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.encoder(x))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.code(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(x) if int(self.domain) == SOURCE else x


class MappedMLP(Model):
    """A multilayer perceptron on pooled features (frame-level streams: mean and standard
    deviation over valid frames; all streams concatenated) behind a frozen domain mapping
    (MixedEmotions D4.2 §2.3.1): ``mapping: cca`` projects into ``components`` canonical
    dimensions (fitted by strategy ``cca_align``), ``mapping: autoencoder`` reconstructs source
    features through a sparse autoencoder of ``components`` hidden units (fitted by strategy
    ``sae_transfer``).  The mapping holds buffers or frozen weights, so a reopened run applies it.
    Sub-networks: ``mapping``, ``classifier``."""

    name = "mapped_mlp"
    summary = "MLP behind a frozen CCA or autoencoder domain mapping (MixedEmotions D4.2 §2.3.1)"

    def __init__(self, inputs: dict[str, FeatureInfo], labels: LabelSpace,
                 mapping: Literal["cca", "autoencoder"] = "cca", components: int = 32, hidden: list[int] = [64],
                 dropout: float = 0.2, target: Optional[str] = None):
        super().__init__()
        if mapping not in ("cca", "autoencoder"):
            raise ValueError(f"mapping must be cca or autoencoder, got {mapping!r}")
        if components < 1 or any(h < 1 for h in hidden) or not 0 <= dropout < 1:
            raise ValueError("components and hidden sizes must be >= 1 and dropout in [0, 1)")
        self.heads = [target_head(labels, target, self.name)]
        self.keys = list(inputs)
        self.frame_keys = {k for k, info in inputs.items() if info.level == "frame"}
        width = sum(2 * info.dim if k in self.frame_keys else info.dim for k, info in inputs.items())
        if mapping == "cca" and components > width:
            raise ValueError(f"components ({components}) must not exceed the pooled input size {width} "
                             f"for mapping: cca")
        self.kind = mapping
        self.mapping = CCAMap(width, components) if mapping == "cca" else SparseAutoencoder(width, components)
        self.mapping.requires_grad_(False)
        layers: list[torch.nn.Module] = []
        size = components if mapping == "cca" else width
        for h in hidden:
            layers += [torch.nn.Linear(size, h), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
            size = h
        head = self.heads[0]
        layers.append(torch.nn.Linear(size, len(head.classes) if head.kind == "classification" else 1))
        self.classifier = torch.nn.Sequential(*layers)

    def pool(self, inputs: dict[str, torch.Tensor], lengths: Optional[dict[str, torch.Tensor]] = None) -> torch.Tensor:
        """(B, P): the pooled, concatenated input streams the mapping reads."""
        lengths = lengths or {}
        return torch.cat([mean_std_pool(inputs[k], lengths.get(k)) if k in self.frame_keys else inputs[k]
                          for k in self.keys], dim=-1)

    def forward(self, inputs, lengths=None):
        out = self.classifier(self.mapping(self.pool(inputs, lengths)))
        head = self.heads[0]
        return {head.name: out if head.kind == "classification" else out.squeeze(-1)}


# ------------------------------------------------------------------ CCA alignment
def _inverse_sqrt(c: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(c)
    return (vectors / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T


def cca(a: np.ndarray, b: np.ndarray, components: int, regularization: float
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regularised CCA of paired, centred rows ``a`` (N, P) and ``b`` (N, P): the first
    ``components`` canonical directions of each side, (P, k) with unit-variance variates, and
    the canonical correlations.  ``regularization`` adds that fraction of the mean variance to
    each covariance's diagonal."""
    n, dim = a.shape
    caa, cbb, cab = a.T @ a / n, b.T @ b / n, a.T @ b / n
    caa += regularization * np.trace(caa) / dim * np.eye(dim)
    cbb += regularization * np.trace(cbb) / dim * np.eye(dim)
    wa, wb = _inverse_sqrt(caa), _inverse_sqrt(cbb)
    u, corr, vt = np.linalg.svd(wa @ cab @ wb)
    return wa @ u[:, :components], wb @ vt.T[:, :components], corr[:components]


def nearest(queries: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The index of each query's nearest item (Euclidean)."""
    d = (queries ** 2).sum(1)[:, None] - 2 * queries @ items.T + (items ** 2).sum(1)[None]
    return d.argmin(1)


def fit_cca_alignment(source: np.ndarray, target: np.ndarray, components: int, iterations: int = 5,
                      regularization: float = 1e-3) -> dict[str, np.ndarray]:
    """Nearest-neighbour-paired CCA between two unpaired domains (no labels).

    Each domain is centred on its own mean.  The first pairing is made in per-domain
    standardised coordinates; every round pairs each target row with its nearest source row and
    each source row with its nearest target row (mutual nearest-neighbour pairs), fits CCA on
    those pairs and re-pairs in the shared space it gives (``iterations`` rounds, an iterative
    closest-point scheme).  Returns ``mean`` (2, P), ``projection`` (2, P, k) (source first) and
    the last round's canonical ``correlation``."""
    means = source.mean(0), target.mean(0)
    xs, xt = source - means[0], target - means[1]
    zs, zt = xs / (xs.std(0) + 1e-8), xt / (xt.std(0) + 1e-8)
    for _ in range(iterations):
        pairs_s, pairs_t = nearest(zt, zs), nearest(zs, zt)
        a = np.concatenate([xs[pairs_s], xs])
        b = np.concatenate([xt, xt[pairs_t]])
        ws, wt, corr = cca(a, b, components, regularization)
        zs, zt = xs @ ws, xt @ wt
    return {"mean": np.stack(means), "projection": np.stack([ws, wt]), "correlation": corr}


# ------------------------------------------------------------------ sparse autoencoder
def sparse_autoencoder_loss(ae: SparseAutoencoder, x: torch.Tensor, sparsity: float, sparsity_weight: float,
                            weight_decay: float) -> torch.Tensor:
    """Ng's sparse-autoencoder objective: mean over rows of ½‖x̂ − x‖², plus ``weight_decay``/2 ·
    the squared weights, plus ``sparsity_weight`` · Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the mean activation of
    hidden unit j and ρ = ``sparsity``."""
    code = ae.code(x)
    error = 0.5 * ((ae.decoder(code) - x) ** 2).sum(1).mean()
    decay = 0.5 * weight_decay * (ae.encoder.weight.pow(2).sum() + ae.decoder.weight.pow(2).sum())
    rho, rho_hat = sparsity, code.mean(0).clamp(1e-6, 1 - 1e-6)
    kl = (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
    return error + decay + sparsity_weight * kl


def fit_sparse_autoencoder(x: np.ndarray, hidden: int, sparsity: float = 0.035, sparsity_weight: float = 5.0,
                           weight_decay: float = 3e-3, iterations: int = 400, seed: int = 0) -> SparseAutoencoder:
    """A sparse autoencoder trained on the rows of ``x`` (full batch, L-BFGS, ``iterations``
    steps at most)."""
    torch.manual_seed(seed)
    ae = SparseAutoencoder(x.shape[1], hidden)
    data = torch.as_tensor(x, dtype=torch.float32)
    optimizer = torch.optim.LBFGS(ae.parameters(), max_iter=iterations, history_size=20,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = sparse_autoencoder_loss(ae, data, sparsity, sparsity_weight, weight_decay)
        loss.backward()
        return loss

    optimizer.step(closure)
    return ae.requires_grad_(False)


# ------------------------------------------------------------------ strategies
class _DomainMapping(Strategy):
    """Learn the mapping of a ``mapped_mlp`` from the training corpora's and the test corpus's
    features (no test labels), train the classifier behind it, then switch it to the test domain."""

    mapping = ""

    def fit(self, session):
        model = session.new_model()
        if getattr(model, "kind", None) != self.mapping:
            raise SertkError(f"strategy {self.name} fits a mapped_mlp model with mapping: {self.mapping}; the "
                             f"recipe's model is {type(model).__name__} ({getattr(model, 'kind', 'no mapping')})")
        if not len(session.test):
            raise SertkError(f"strategy {self.name} learns from the test corpus's features, but the fold's test "
                             f"part is empty")
        source = pooled(session, model, session.train + session.validation)
        target = pooled(session, model, session.test.labelled({}))  # features only: no test labels
        message = self.install(model, source, target)
        session.progress.log(f"{self.name} (transductive: fitted on {len(source)} training-corpus and "
                             f"{len(target)} unlabelled test-corpus segments): {message}")
        model.mapping.domain.fill_(SOURCE)
        session.fit(model)
        model.mapping.domain.fill_(TARGET)
        return model.eval()

    def install(self, model: MappedMLP, source: np.ndarray, target: np.ndarray) -> str:
        """Fit the mapping into ``model.mapping``; returns a line for the log."""
        raise NotImplementedError


def pooled(session, model: MappedMLP, part) -> np.ndarray:
    """The part's pooled, normalised input vectors as the model's mapping reads them, (N, P)."""
    with torch.no_grad():
        return torch.cat([model.pool(b.inputs, b.lengths) for b in session.loader(part)]).double().numpy()


class CCAAlign(_DomainMapping):
    """CCA-based alignment of corpora in different languages (MixedEmotions D4.2, executive
    summary and §2.3.1, summarising D4.1's method): the training corpora (source) and the test
    corpus (target) are projected into a shared space of canonical variates learnt without any
    target label, and the classifier is trained on the projected source.  D4.2 gives no
    algorithm; unpaired corpora need a pairing, read here as nearest-neighbour pairing refined
    iteratively (:func:`fit_cca_alignment`).  Transductive: it reads the test corpus's features.
    ``iterations`` pairing rounds; ``regularization`` of the covariances."""

    name = "cca_align"
    summary = "transductive CCA alignment of training and test corpus (MixedEmotions D4.2 §2.3.1)"
    transductive = True
    mapping = "cca"

    def __init__(self, iterations: int = 5, regularization: float = 1e-3):
        if iterations < 1 or regularization < 0:
            raise ValueError("iterations must be >= 1 and regularization >= 0")
        self.iterations, self.regularization = iterations, float(regularization)

    def install(self, model, source, target):
        k = model.mapping.projection.shape[-1]
        if k > min(len(source), len(target)):
            raise SertkError(f"cca_align: {k} components need at least as many segments in each corpus "
                             f"({len(source)} training, {len(target)} test); lower model.params.components")
        fitted = fit_cca_alignment(source, target, k, self.iterations, self.regularization)
        with torch.no_grad():
            model.mapping.mean.copy_(torch.as_tensor(fitted["mean"]))
            model.mapping.projection.copy_(torch.as_tensor(fitted["projection"]))
        corr = fitted["correlation"]
        return f"{k} canonical components, correlations {corr[0]:.3f} … {corr[-1]:.3f}"


class SAETransfer(_DomainMapping):
    """Sparse autoencoder-based feature transfer (MixedEmotions D4.2, executive summary and
    §2.3.1; J. Deng, Z. Zhang, E. Marchi, B. Schuller, "Sparse autoencoder-based feature transfer
    learning for speech emotion recognition", ACII 2013): a sparse autoencoder is trained on the
    test corpus's (target domain's) unlabelled features, the training corpora's features are
    reconstructed through it and the classifier is trained on the reconstructions; test features
    enter unchanged.  Objective from Ng's sparse-autoencoder notes (CS294A), on which Deng et al.
    build; deviation: a linear decoder (the inputs are z-scored, not in [0, 1]), with the values
    of the notes' linear-decoder exercise (UFLDL): sparsity ρ 0.035, sparsity weight β 5, weight
    decay λ 3e-3, L-BFGS for 400 iterations.  Transductive: it reads the test corpus's features."""

    name = "sae_transfer"
    summary = "transductive sparse-autoencoder feature transfer to the test corpus (MixedEmotions D4.2 §2.3.1)"
    transductive = True
    mapping = "autoencoder"

    def __init__(self, sparsity: float = 0.035, sparsity_weight: float = 5.0, weight_decay: float = 3e-3,
                 iterations: int = 400, seed: int = 0):
        if not 0 < sparsity < 1 or sparsity_weight < 0 or weight_decay < 0 or iterations < 1:
            raise ValueError("sparsity must be in (0, 1), sparsity_weight and weight_decay >= 0, iterations >= 1")
        self.sparsity, self.sparsity_weight = float(sparsity), float(sparsity_weight)
        self.weight_decay = float(weight_decay)
        self.iterations, self.seed = iterations, seed

    def install(self, model, source, target):
        ae = fit_sparse_autoencoder(target, model.mapping.encoder.out_features, self.sparsity, self.sparsity_weight,
                                    self.weight_decay, self.iterations, self.seed)
        model.mapping.load_state_dict(ae.state_dict())
        with torch.no_grad():
            error = [float(((ae.reconstruct(torch.as_tensor(x, dtype=torch.float32)) - torch.as_tensor(
                x, dtype=torch.float32)) ** 2).mean()) for x in (target, source)]
        return f"reconstruction MSE {error[0]:.3f} (test corpus), {error[1]:.3f} (training corpora)"
