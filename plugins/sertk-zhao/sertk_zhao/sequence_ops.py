"""Faster CPU pieces of the 1-D LFLB on (B, T, C) sequences: same values, less work.

* :func:`same_conv` — a "same"-padded 1-D convolution computed on the sequence's
  channels-last (B, C, 1, T) view.  Its backward pass computes the input gradient
  as a convolution with the flipped kernel and the weight gradient as one matrix
  product of the gradient with the unfolded input: about 1.5x faster on one CPU
  thread than torch's own convolution backward for the 1-D CNN-LSTM's inner layers.
* :func:`batch_normalised_weights` — convolution weights with batch normalisation
  folded in, for a one-channel input: the batch statistics of each output channel
  follow from the mean and covariance of the k-sample input patches, so
  conv → BN is one convolution and the (B, T, C) batch-norm pass disappears.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def same_margins(kernel: int) -> tuple[int, int]:
    """Zeros before and after the sequence for "same" padding (torch's split: the odd one after)."""
    margin = kernel - 1
    return margin // 2, margin - margin // 2


def as_map(sequence: torch.Tensor) -> torch.Tensor:
    """(B, T, C) → the same memory as a channels-last (B, C, 1, T) map."""
    return sequence.transpose(1, 2).unsqueeze(2).contiguous(memory_format=torch.channels_last)


def as_sequence(maps: torch.Tensor) -> torch.Tensor:
    """Channels-last (B, C, 1, T) → a (B, T, C) sequence (contiguous)."""
    return maps.squeeze(2).transpose(1, 2).contiguous()


def same_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """(B, T, C) sequence, (O, C, k) weight, (O,) bias → (B, T, O), stride 1, "same" padding.

    A one-channel input keeps torch's backward pass, which is the faster one there.
    """
    return _SameConv.apply(x, weight, bias) if x.shape[2] > 1 else _conv(x, weight, bias)


def _conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    before, after = same_margins(weight.shape[2])
    padded = F.pad(x, (0, 0, 0, after - before)) if after != before else x
    return as_sequence(F.conv2d(as_map(padded), weight.unsqueeze(2), bias, padding=(0, before)))


class _SameConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return _conv(x, weight, bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        batch, steps, channels = x.shape
        kernel = weight.shape[2]
        before, after = same_margins(kernel)
        grad = grad.to(x.dtype).contiguous().view(-1, weight.shape[0])  # lower precision under autocast
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            flipped = weight.flip(2).transpose(0, 1).unsqueeze(2)  # (C, O, 1, k)
            full = as_sequence(F.conv2d(as_map(grad.view(batch, steps, -1)), flipped, padding=(0, kernel - 1)))
            grad_x = full[:, before:before + steps]
        if ctx.needs_input_grad[1]:
            grad_weight = (grad.t() @ unfold(x, kernel)).view(-1, kernel, channels).permute(0, 2, 1)
        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(0)
        return grad_x, grad_weight, grad_bias


def unfold(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """(B, T, C) → (B·T, k·C): each step's "same"-padded window, tap-major."""
    before, after = same_margins(kernel)
    padded = F.pad(x, (0, 0, before, after))
    steps = x.shape[1]
    return torch.cat([padded[:, j:j + steps] for j in range(kernel)], 2).reshape(-1, kernel * x.shape[2])


def batch_normalised_weights(x: torch.Tensor, conv: nn.Conv1d, norm: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of one convolution equal to ``norm(conv(x))`` for a one-channel (B, T, 1) ``x``.

    Output channel o of the convolution is w_o·p + b_o over the input's k-sample
    patches p, so its batch mean is w_o·m + b_o and its (biased) variance w_oᵀSw_o,
    with m and S the patches' mean and covariance (float64).  Normalising then gives
    weight γ_o·w_o/σ_o and bias β_o + γ_o·(b_o − μ_o)/σ_o.  In training the running
    statistics are updated as :class:`torch.nn.BatchNorm1d` does (momentum, unbiased
    variance); in evaluation they are used.
    """
    weight = conv.weight.squeeze(1)  # (O, k)
    if norm.training:
        patches = unfold(x, weight.shape[1]).double()
        count = patches.shape[0]
        if count < 2:
            raise ValueError("batch normalisation needs more than one value per channel in training")
        mean = patches.mean(0)
        centred = patches - mean
        w = weight.double()
        out_mean = w @ mean + conv.bias.double()
        out_var = ((w @ (centred.t() @ centred / count)) * w).sum(1)
        _update_running_stats(norm, out_mean.detach(), out_var.detach() * count / (count - 1))
    else:
        out_mean, out_var = norm.running_mean.double(), norm.running_var.double()
    scale = norm.weight.double() / torch.sqrt(out_var + norm.eps)
    folded_weight = (weight.double() * scale[:, None]).unsqueeze(1)
    folded_bias = norm.bias.double() + scale * (conv.bias.double() - out_mean)
    return folded_weight.to(x.dtype), folded_bias.to(x.dtype)


def _update_running_stats(norm: nn.BatchNorm1d, mean: torch.Tensor, var: torch.Tensor) -> None:
    """The running-statistics update of ``F.batch_norm`` in training."""
    if not norm.track_running_stats:
        return
    norm.num_batches_tracked.add_(1)
    factor = 1.0 / float(norm.num_batches_tracked) if norm.momentum is None else norm.momentum
    with torch.no_grad():
        norm.running_mean.mul_(1 - factor).add_(mean.to(norm.running_mean.dtype), alpha=factor)
        norm.running_var.mul_(1 - factor).add_(var.to(norm.running_var.dtype), alpha=factor)
