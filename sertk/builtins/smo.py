"""libsvm's C-SVC dual solver (SMO with second-order working-set selection, Fan, Chen &
Lin, "Working set selection using second order information for training SVM", JMLR
2005; libsvm's defaults: tolerance 1e-3, tau 1e-12) on a precomputed kernel, run on
many binary problems at once in numpy: every one-vs-one pair of a multi-class problem
takes one step per iteration."""
from __future__ import annotations

import numpy as np

TAU = 1e-12
SNAP = 1e-12  # relative distance to a bound treated as on it


def solve_pairs(kernel: np.ndarray, y: np.ndarray, upper: np.ndarray, eps: float = 1e-3,
                max_iter: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ½αᵀQα − Σα subject to yᵀα = 0 and 0 ≤ α ≤ ``upper`` for P problems.

    ``kernel`` is (P, n, n), ``y`` (P, n) in {−1, +1} (0 marks padding), ``upper`` (P, n)
    the box (C times the sample's class weight).  Returns α (P, n) and libsvm's ρ (P,):
    the decision of problem p is Σᵢ αᵢ yᵢ K(xᵢ, x) − ρ.
    """
    P, n = y.shape
    rows = np.arange(P)
    both = np.concatenate([rows, rows])  # rows of i then j, so the pair's two variables move in one call
    pos = y > 0
    alpha = np.zeros((P, n))
    score = np.where(y != 0, y, 0.0)  # −yᵢ∇ᵢ, with ∇ = Qα − 1 (Qᵢₜ = yᵢyₜKᵢₜ) at α = 0
    diag = np.einsum("pii->pi", kernel)
    active = np.ones(P, dtype=bool)
    for _ in range(max_iter or max(10_000_000, 100 * n)):
        # padding (y = 0) has 0 = α = upper, so it is free in neither direction
        free_up, free_low = alpha < upper, alpha > 0
        up, low = np.where(pos, free_up, free_low), np.where(pos, free_low, free_up)
        i = np.where(up, score, -np.inf).argmax(axis=1)
        m = score[rows, i]
        active &= m - np.where(low, score, np.inf).min(axis=1) >= eps
        if not active.any():
            break
        k_i = kernel[rows, i]
        b = m[:, None] - score
        a = diag[rows, i][:, None] + diag - 2.0 * k_i
        a = np.where(a > 0, a, TAU)
        j = np.where(low & (b > 0), (b * b) / a, -np.inf).argmax(axis=1)  # the largest decrease b²/a
        step = np.where(active, b[rows, j] / a[rows, j], 0.0)
        ij = np.concatenate([i, j])
        y_ij, alpha_ij, upper_ij = y[both, ij], alpha[both, ij], upper[both, ij]
        y_i, y_j, alpha_i, alpha_j = y_ij[:P], y_ij[P:], alpha_ij[:P], alpha_ij[P:]
        upper_i, upper_j = upper_ij[:P], upper_ij[P:]
        total = y_i * alpha_i + y_j * alpha_j
        new_i = np.minimum(np.maximum(alpha_i + y_i * step, 0.0), upper_i)  # clipped to the box
        new_j = np.minimum(np.maximum(y_j * (total - y_i * new_i), 0.0), upper_j)
        new = _snap(np.concatenate([y_i * (total - y_j * new_j), new_j]), upper_ij)
        change = y_ij * (new - alpha_ij)
        alpha[both, ij] = new
        score -= change[:P, None] * k_i + change[P:, None] * kernel[rows, j]
    return alpha, _rho(y, -y * score, alpha, upper)


def _snap(alpha: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """α within rounding of a bound put on it (as libsvm's clipping does), so that a
    variable 1e-16 below its bound is not selected again and again for no progress."""
    near = SNAP * upper
    return np.where(alpha >= upper - near, upper, np.where(alpha <= near, 0.0, alpha))


def _rho(y: np.ndarray, grad: np.ndarray, alpha: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """libsvm's ρ: the mean of yᵢ∇ᵢ over free αᵢ, else the middle of its feasible range."""
    real = y != 0
    yg = y * grad
    at_upper, at_lower = alpha >= upper, alpha <= 0
    free = real & ~at_upper & ~at_lower
    bounds_ub = real & ((at_upper & (y < 0)) | (at_lower & (y > 0)))
    bounds_lb = real & ((at_upper & (y > 0)) | (at_lower & (y < 0)))
    ub = np.where(bounds_ub, yg, np.inf).min(axis=1)
    lb = np.where(bounds_lb, yg, -np.inf).max(axis=1)
    n_free = free.sum(axis=1)
    mean_free = np.where(free, yg, 0.0).sum(axis=1) / np.maximum(n_free, 1)
    with np.errstate(invalid="ignore"):  # a problem without bounded αᵢ has a free one
        middle = (ub + lb) / 2
    return np.where(n_free > 0, mean_free, middle)
