"""Paired significance test for per-fold scores of two runs."""
from __future__ import annotations

from typing import Sequence

import numpy as np

EXACT_UP_TO = 16


def paired_permutation_test(a: Sequence[float], b: Sequence[float], seed: int = 0, resamples: int = 10000) -> float:
    """Two-sided p-value of the mean paired difference ``b − a`` by sign flipping:
    Fisher's randomization test (Fisher, "The Design of Experiments", 1935, §21).
    Under the null each difference's sign is equally likely, so the p-value is the
    share of sign assignments whose |mean| reaches the observed one: all 2^n of
    them for n ≤ 16 pairs, else ``resamples`` random ones with the (k + 1) / (m + 1)
    estimate of Phipson & Smyth, Stat. Appl. Genet. Mol. Biol. 9(1), 2010."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"a and b must be paired 1-D scores, got shapes {a.shape} and {b.shape}")
    d = b - a
    if len(d) < 2:
        raise ValueError(f"the paired test needs at least 2 pairs, got {len(d)}; compare runs with more folds")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    n = len(d)
    if n <= EXACT_UP_TO:
        signs = 1 - 2 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
    else:
        signs = np.random.default_rng(seed).choice([-1, 1], size=(resamples, n))
    observed = abs(d.sum())
    extreme = int(np.sum(np.abs(signs @ d) >= observed - 1e-12 * np.abs(d).sum()))
    return extreme / len(signs) if n <= EXACT_UP_TO else (extreme + 1) / (resamples + 1)
