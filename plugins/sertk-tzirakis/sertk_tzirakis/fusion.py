"""Fusion of the paralinguistic and semantic streams, Tzirakis et al., ICASSP 2021, §3.3.

``concat``: the two frame sequences side by side.

``attention`` (disentangled attention), frame by frame, as written here (the paper's
symbols; x_p paralinguistic, x_s semantic features of one frame):

* eq. 4, projection to a common size d_u: ``u_m = W_m x_m + b_m`` for m ∈ {p, s}
  (``self.project[m]``, one ``nn.Linear(d_m, d_u)`` each);
* eq. 5, attention with a learned query q: ``e_m = qᵀ tanh(W_e u_m + b_e)``,
  ``α = softmax_m(e)``, ``z = Σ_m α_m u_m`` (:class:`QueryAttention` over the stacked
  u_m);
* eq. 6, three linear projections of z, one per output dimension:
  ``a = W_a z``, ``v = W_v z``, ``l = W_l z`` (``self.outputs``, ``nn.Linear(d_u, d_u)``
  each; ``projections`` of them: "more outputs → more projections");
* eq. 7: ``Attention(a, l)`` and ``Attention(z, v)``, each a :class:`QueryAttention` with
  its own query over its two vectors; their results are concatenated,
  (B, T, 2·d_u), the input of the LSTM.  With K projections p_1..p_K this generalises
  (our reading) to Attention(p_1, p_K) and Attention(z, p_k) for k = 2..K−1.

The paper's text does not spell out the score function of its attention; the additive
form above (Bahdanau-style, as in Yang et al.'s hierarchical attention with a learned
context vector) is our reading.
"""
from __future__ import annotations

import torch
from torch import nn


class QueryAttention(nn.Module):
    """Attention over a set of vectors with a learned query (eq. 5):
    (B, T, M, d) → ((B, T, d) weighted sum, (B, T, M) weights summing to one over M)."""

    def __init__(self, dim: int):
        super().__init__()
        self.key = nn.Linear(dim, dim)
        self.query = nn.Parameter(torch.randn(dim) / dim ** 0.5)

    def forward(self, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = torch.softmax(torch.tanh(self.key(items)) @ self.query, dim=-1)
        return (weights.unsqueeze(-1) * items).sum(-2), weights


class DisentangledAttention(nn.Module):
    """Disentangled attention fusion (§3.3, eqs. 4–7, see the module docstring):
    paralinguistic (B, T, d_p) and semantic (B, T, d_s) frames → (B, T, (K − 1)·d_u)."""

    def __init__(self, d_p: int, d_s: int, d_u: int, projections: int = 3):
        super().__init__()
        if projections < 2:
            raise ValueError(f"projections must be at least 2 (eq. 7 pairs them), got {projections}")
        self.project = nn.ModuleDict({"p": nn.Linear(d_p, d_u), "s": nn.Linear(d_s, d_u)})  # eq. 4
        self.modalities = QueryAttention(d_u)                                                # eq. 5
        self.outputs = nn.ModuleList(nn.Linear(d_u, d_u, bias=False) for _ in range(projections))  # eq. 6
        self.pairs = nn.ModuleList(QueryAttention(d_u) for _ in range(projections - 1))      # eq. 7
        self.output_size = (projections - 1) * d_u
        self.weights: dict[str, torch.Tensor] = {}

    def forward(self, paralinguistic: torch.Tensor, semantic: torch.Tensor) -> torch.Tensor:
        u = torch.stack([self.project["p"](paralinguistic), self.project["s"](semantic)], dim=-2)
        z, self.weights["modalities"] = self.modalities(u)
        p = [layer(z) for layer in self.outputs]
        pairs = [(p[0], p[-1])] + [(z, q) for q in p[1:-1]]
        fused = []
        for k, ((x, y), attention) in enumerate(zip(pairs, self.pairs)):
            out, self.weights[f"pair{k}"] = attention(torch.stack([x, y], dim=-2))
            fused.append(out)
        return torch.cat(fused, dim=-1)
