"""ONNX and TorchScript graphs of trained networks, for use outside sertk.

The graph takes the input streams in the run's key order as plain tensors, each
frame-level stream (B, T, D) followed by its int64 lengths ``<key>_lengths`` (B,),
utterance-level streams as (B, D); it returns one output per head, named after the
head: class probabilities (softmax) for classification, values otherwise.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from ..errors import SertkError
from ..interfaces import FeatureInfo

FILES = {"onnx": "model.onnx", "torchscript": "model.ts"}
OPSET = 17


def _graph_module(model, inputs: dict[str, FeatureInfo]):
    import torch

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.keys = list(inputs)
            self.frame = [k for k in self.keys if inputs[k].level == "frame"]

        def forward(self, *tensors):
            values = iter(tensors)
            x, lengths = {}, {}
            for key in self.keys:
                x[key] = next(values)
                if key in self.frame:
                    lengths[key] = next(values)
            raw = self.model(x, lengths or None)
            return tuple(raw[h.name].softmax(-1) if h.kind == "classification" else raw[h.name]
                         for h in self.model.heads)

    return Graph().eval()


def example_inputs(inputs: dict[str, FeatureInfo], batch: int = 2, frames: int = 50) -> tuple[list[str], tuple]:
    """Input names and example tensors for the graph (frame-level streams of unequal lengths)."""
    import torch

    names, tensors = [], []
    generator = torch.Generator().manual_seed(0)
    for key, info in inputs.items():
        if info.level == "frame":
            names += [key, f"{key}_lengths"]
            tensors += [torch.randn(batch, frames, info.dim, generator=generator),
                        torch.tensor([frames] + [frames * 3 // 5] * (batch - 1), dtype=torch.long)]
        else:
            names.append(key)
            tensors.append(torch.randn(batch, info.dim, generator=generator))
    return names, tuple(tensors)


def export_graph(model, inputs: dict[str, FeatureInfo], folder: Path, fmt: str) -> Path:
    """Write ``model.onnx`` or ``model.ts`` of a network into ``folder``; a one-line error
    for estimator models (kept as plain arrays) and networks that do not trace."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise SertkError(f"--format {fmt}: {type(model).__name__} is an estimator kept as plain arrays "
                         f"(model.npz); export it with --format native")
    graph = _graph_module(model, inputs)
    names, example = example_inputs(inputs)
    heads = [h.name for h in model.heads]
    frame_heads = {h.name for h in model.heads if h.level == "frame"}
    path = folder / FILES[fmt]
    try:
        with torch.no_grad():
            if fmt == "onnx":
                dynamic = {n: ({0: "batch", 1: "frames"} if inputs.get(n) and inputs[n].level == "frame" else
                               {0: "batch"}) for n in names}
                dynamic.update({h: {0: "batch", 1: "frames"} if h in frame_heads else {0: "batch"} for h in heads})
                with warnings.catch_warnings():  # the TorchScript-based exporter (no onnxscript needed) is deprecated
                    warnings.simplefilter("ignore", DeprecationWarning)
                    torch.onnx.export(graph, example, str(path), input_names=names, output_names=heads,
                                      dynamic_axes=dynamic, opset_version=OPSET, dynamo=False)
            else:
                torch.jit.save(torch.jit.trace(graph, example), str(path))
    except Exception as exc:  # exporters raise many kinds of errors for unsupported operations
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise SertkError(f"--format {fmt}: {type(model).__name__} does not export ({first}); "
                         f"use --format native") from None
    return path
