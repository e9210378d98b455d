"""Mapping the Speech2Vec space onto the Word2Vec space (Tzirakis et al., ICASSP 2021, §3.1,
eqs. 1-3), after A. Conneau, G. Lample, M. Ranzato, L. Denoyer, H. Jégou, "Word translation
without parallel data", ICLR 2018 (MUSE): a linear map W learned adversarially against a
discriminator (eqs. 1-2; MUSE §2.1, §3.3), then refined by orthogonal Procrustes (eq. 3;
MUSE §2.2) on a dictionary of mutual nearest neighbours under CSLS (MUSE §2.3).

Convention: embeddings are rows; W is (d_t, d_s) and maps a source vector s (a column) to
W s, so a matrix of source rows maps to ``source @ W.T``.  The two spaces may differ in
size: W is then semi-orthogonal (orthonormal columns when d_s <= d_t, rows otherwise),
which Procrustes gives by the thin SVD and MUSE's orthogonalisation update
W <- (1 + β) W - β W Wᵀ W keeps (it drives every singular value of W to 1 for any shape).

MUSE's values (§3.3): a discriminator of two hidden layers of 2048 units with leaky ReLU
(slope 0.2) and dropout 0.1 on its input, label smoothing 0.2, SGD at 0.1 for both players,
batches of 32, 5 discriminator steps per mapping step, β = 0.01, the 50,000 most frequent
words fed to the discriminator, W starting as the identity, CSLS with 10 neighbours, the
mapping kept at its best unsupervised criterion (mean cosine of CSLS translations of the
10,000 most frequent source words, §3.5).  The released code's defaults differ in two:
smoothing 0.1 and β = 0.001.  Simplified here: a fixed learning rate and ``steps`` mapping
steps (5,000 by default, for a CPU; MUSE runs 5 epochs of 1,000,000 words, about 156,000
steps) instead of epochs with decay and shrinking; the criterion is checked every
``check_every`` steps.  Embeddings are scaled to unit length first (MUSE's
``--normalize_embeddings renorm``), because Speech2Vec and Word2Vec vectors differ in scale;
they are not centred, so W applies to raw vectors as well (a linear map commutes with
scaling: a mapped raw vector points where its unit-length copy maps to).
"""
from __future__ import annotations

from typing import Callable, Literal, Optional, Sequence

import numpy as np

from .word2vec import WordVectors


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """W (d_t, d_s) with orthonormal columns (rows when d_t < d_s) minimising Σ‖W s_i − t_i‖² over
    paired rows s_i of ``source`` (n, d_s) and t_i of ``target`` (n, d_t): W = U Vᵀ from the thin
    SVD U Σ Vᵀ of Tᵀ S (Tzirakis et al. eq. 3; MUSE §2.2).  Map rows with ``source @ W.T``."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    if len(source) != len(target):
        raise ValueError(f"procrustes needs paired rows, got {len(source)} source and {len(target)} target rows")
    u, _, vt = np.linalg.svd(target.T @ source, full_matrices=False)
    return u @ vt


def csls(mapped: np.ndarray, target: np.ndarray, neighbours: int = 10) -> np.ndarray:
    """Cross-domain similarity local scaling (MUSE §2.3): 2 cos(Ws, t) − r_T(Ws) − r_S(t), where r is
    the mean cosine to the ``neighbours`` nearest points of the other space; rows unit-length."""
    cos = mapped @ target.T
    k_t, k_s = min(neighbours, cos.shape[1]), min(neighbours, cos.shape[0])
    r_t = -np.sort(-cos, axis=1)[:, :k_t].mean(1)
    r_s = -np.sort(-cos, axis=0)[:k_s].mean(0)
    return 2 * cos - r_t[:, None] - r_s[None, :]


def criterion(W: np.ndarray, source: np.ndarray, target: np.ndarray, top: int = 10000) -> float:
    """MUSE's unsupervised model-selection criterion (§3.5): mean cosine between the ``top`` most
    frequent mapped source words and their CSLS translations."""
    mapped = normalize(source[:top] @ W.T)
    best = csls(mapped, target).argmax(1)
    return float((mapped * target[best]).sum(1).mean())


def adversarial_map(source: np.ndarray, target: np.ndarray, steps: int = 5000, batch_size: int = 32,
                    dis_steps: int = 5, hidden: int = 2048, layers: int = 2, input_dropout: float = 0.1,
                    smoothing: float = 0.2, lr: float = 0.1, beta: float = 0.01, most_frequent: int = 50000,
                    check_every: int = 500, seed: int = 0,
                    progress: Optional[Callable[[int, float], None]] = None) -> np.ndarray:
    """W (d_t, d_s) learned adversarially (Tzirakis et al. eqs. 1-2; MUSE §2.1): the discriminator
    learns to tell mapped source rows ``W s`` from target rows, W learns to fool it; after every
    mapping step W is pulled towards (semi-)orthogonality.  Rows of ``source`` and ``target``
    are words, most frequent first, already normalised (:func:`normalize`); only the first
    ``most_frequent`` are drawn.  Returns the W with the best :func:`criterion` among the checks.
    ``progress(step, criterion)`` is called at each check when given.
    """
    import torch
    from torch import nn

    for key, value in (("steps", steps), ("batch_size", batch_size), ("dis_steps", dis_steps), ("hidden", hidden),
                       ("check_every", check_every), ("most_frequent", most_frequent)):
        if value < 1:
            raise ValueError(f"{key} must be at least 1, got {value}")
    if not 0 <= smoothing < 0.5:
        raise ValueError(f"smoothing must be in [0, 0.5), got {smoothing}")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    src = torch.as_tensor(source, dtype=torch.float32)
    tgt = torch.as_tensor(target, dtype=torch.float32)
    d_s, d_t = src.shape[1], tgt.shape[1]
    mapping = nn.Linear(d_s, d_t, bias=False)
    with torch.no_grad():
        mapping.weight.copy_(torch.eye(d_t, d_s))
    sizes = [d_t] + [hidden] * layers
    body = [nn.Dropout(input_dropout)]
    for a, b in zip(sizes, sizes[1:]):
        body += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    discriminator = nn.Sequential(*body, nn.Linear(sizes[-1], 1))
    dis_opt = torch.optim.SGD(discriminator.parameters(), lr=lr)
    map_opt = torch.optim.SGD(mapping.parameters(), lr=lr)
    labels = torch.cat([torch.full((batch_size,), 1 - smoothing), torch.full((batch_size,), smoothing)])
    bce = nn.functional.binary_cross_entropy_with_logits
    n_src, n_tgt = min(most_frequent, len(src)), min(most_frequent, len(tgt))

    def batch(grad: bool):
        s = src[torch.randint(n_src, (batch_size,), generator=gen)]
        t = tgt[torch.randint(n_tgt, (batch_size,), generator=gen)]
        with torch.set_grad_enabled(grad):
            return torch.cat([mapping(s), t])

    best, best_score = mapping.weight.detach().numpy().copy(), -np.inf
    for step in range(1, steps + 1):
        discriminator.train()
        for _ in range(dis_steps):
            loss = bce(discriminator(batch(False)).squeeze(-1), labels)
            dis_opt.zero_grad()
            loss.backward()
            dis_opt.step()
        discriminator.eval()
        loss = bce(discriminator(batch(True)).squeeze(-1), 1 - labels)
        map_opt.zero_grad()
        loss.backward()
        map_opt.step()
        with torch.no_grad():
            w = mapping.weight
            w.copy_((1 + beta) * w - beta * w @ w.T @ w)
        if step % check_every == 0 or step == steps:
            W = mapping.weight.detach().double().numpy()
            score = criterion(W, np.asarray(source, np.float64), np.asarray(target, np.float64))
            if score > best_score:
                best, best_score = W.copy(), score
            if progress is not None:
                progress(step, score)
    return np.asarray(best, dtype=np.float64)


def mutual_pairs(W: np.ndarray, source: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    """(i, j) pairs among the ``k`` most frequent words of each space that are each other's CSLS
    nearest neighbour after mapping (MUSE's ``S2T&T2S`` dictionary)."""
    scores = csls(normalize(source[:k] @ W.T), target[:k])
    forward, backward = scores.argmax(1), scores.argmax(0)
    rows = np.flatnonzero(backward[forward] == np.arange(len(forward)))
    return np.stack([rows, forward[rows]], 1)


def identical_pairs(source: WordVectors, target: WordVectors, k: int) -> np.ndarray:
    """(i, j) pairs of the same word text among the ``k`` most frequent source words (MUSE's
    ``identical_char`` dictionary)."""
    index = target.index()
    return np.asarray([(i, index[w]) for i, w in enumerate(source.words[:k]) if w in index], dtype=np.int64)


def refine(W: np.ndarray, source: WordVectors, target: WordVectors, k: int = 15000, iterations: int = 5,
           dictionary: Literal["mutual_nn", "identical"] = "mutual_nn") -> np.ndarray:
    """Iterative Procrustes refinement (Tzirakis et al. eq. 3; MUSE §2.2-2.3): build a dictionary
    among the ``k`` most frequent words, solve Procrustes on it, repeat ``iterations`` times.

    ``dictionary="mutual_nn"`` (default) pairs words that are mutual CSLS nearest neighbours under the
    current W, MUSE's unsupervised procedure that Tzirakis et al. follow (eqs. 1-3 use no seed
    dictionary); ``"identical"`` pairs words with the same text in both spaces, a supervised
    shortcut when the speech vectors carry their transcripts (one Procrustes solve: the
    dictionary does not change).  Vectors are normalised with :func:`normalize` first.
    """
    if k < 1 or iterations < 1:
        raise ValueError(f"k and iterations must be at least 1, got {k} and {iterations}")
    if dictionary not in ("mutual_nn", "identical"):
        raise ValueError(f"dictionary must be 'mutual_nn' or 'identical', got {dictionary!r}")
    src, tgt = normalize(source.vectors), normalize(target.vectors)
    W = np.asarray(W, dtype=np.float64)
    for _ in range(1 if dictionary == "identical" else iterations):   # a fixed dictionary gives one W
        pairs = mutual_pairs(W, src, tgt, k) if dictionary == "mutual_nn" else identical_pairs(source, target, k)
        if len(pairs) == 0:
            break
        W = procrustes(src[pairs[:, 0]], tgt[pairs[:, 1]])
    return W


def align(source: WordVectors, target: WordVectors, k: int = 15000, seed: int = 0, iterations: int = 5,
          dictionary: Literal["mutual_nn", "identical"] = "mutual_nn", **adversarial) -> np.ndarray:
    """W (d_t, d_s) mapping ``source`` (e.g. Speech2Vec types) onto ``target`` (Word2Vec): adversarial
    training (:func:`adversarial_map`, its params as keywords) then :func:`refine`; both on the
    unit-length vectors.  Map source rows (raw or unit-length) with ``rows @ W.T``."""
    W = adversarial_map(normalize(source.vectors), normalize(target.vectors), seed=seed, **adversarial)
    return refine(W, source, target, k, iterations, dictionary)


def translation_accuracy(W: np.ndarray, source: WordVectors, target: WordVectors,
                         pairs: Optional[Sequence[tuple[str, str]]] = None, k: int = 1) -> float:
    """Precision@k of word translation: the share of (source word, target word) ``pairs`` whose
    target is among the ``k`` nearest target words (cosine) of the mapped source word; ``pairs``
    default to the words present in both vocabularies.  Vectors are normalised first."""
    s_index, t_index = source.index(), target.index()
    if pairs is None:
        pairs = [(w, w) for w in source.words if w in t_index]
    pairs = [(a, b) for a, b in pairs if a in s_index and b in t_index]
    if not pairs:
        raise ValueError("no translation pairs with both words in the vocabularies")
    mapped = normalize(source.vectors[[s_index[a] for a, _ in pairs]] @ np.asarray(W, np.float64).T)
    cos = mapped @ normalize(target.vectors).T
    top = np.argsort(-cos, axis=1, kind="stable")[:, :k]
    truth = np.asarray([t_index[b] for _, b in pairs])
    return float((top == truth[:, None]).any(1).mean())
