"""Transfer learning from a recipe: pretrained weights into named sub-networks,
frozen sub-networks, and a learning rate per sub-network."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import torch

from ..errors import ConfigError
from ..settings import PretrainedConfig
from .layout import RunLayout


def submodule(model: torch.nn.Module, name: str, key: str) -> torch.nn.Module:
    """The sub-network ``name`` (dotted path; empty: the whole model), or an error listing the valid names."""
    if not name:
        return model
    try:
        return model.get_submodule(name)
    except AttributeError:
        children = [n for n, _ in model.named_children()]
        raise ConfigError(key, f"the model has no sub-network {name!r}; its sub-networks are {children}") from None


def _checkpoint(spec: PretrainedConfig, fold: str, key: str) -> Path:
    """The weights file a spec points to: a file, or a run's fold model."""
    source = Path(spec.source)
    if source.is_file():
        return source
    layout = RunLayout(source)
    if not layout.folds.is_file():
        raise ConfigError(f"{key}.source", f"{source} is neither a checkpoint file nor a finished sertk run")
    folds = sorted(p.name for p in (source / "folds").iterdir() if (p / "model.pt").is_file())
    name = fold if spec.fold == "same" else spec.fold
    if name is None:
        if len(folds) != 1:
            raise ConfigError(f"{key}.fold", f"{source} has {len(folds)} fold models {folds}; name one, or `same`")
        name = folds[0]
    if not layout.model(name).is_file():
        raise ConfigError(f"{key}.fold", f"{source} has no model for fold {name!r}; it has {folds}")
    return layout.model(name)


def load_pretrained(model: torch.nn.Module, specs: Sequence[PretrainedConfig], fold: str) -> None:
    """Copy each spec's weights (keys under ``prefix``) into its sub-network, strictly."""
    for i, spec in enumerate(specs):
        key = f"train.pretrained.{i}"
        target = submodule(model, spec.module, f"{key}.module")
        path = _checkpoint(spec, fold, key)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # corrupt file, a pickle with code, a non-torch file
            raise ConfigError(f"{key}.source", f"{path}: not a loadable weights file ({type(exc).__name__}); "
                                               f"save a state_dict with torch.save") from None
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        if not isinstance(state, dict):
            raise ConfigError(f"{key}.source", f"{path}: holds no state dict")
        start = f"{spec.prefix}." if spec.prefix else ""
        picked = {k[len(start):]: v for k, v in state.items() if k.startswith(start)}
        try:
            missing, unexpected = target.load_state_dict(picked, strict=False)
        except RuntimeError as exc:  # a tensor of another shape: the sizes differ
            shape = next((line.strip() for line in str(exc).splitlines() if "size mismatch" in line), str(exc))
            raise ConfigError(key, f"{path} (prefix {spec.prefix!r}) has other layer sizes than sub-network "
                                   f"{spec.module!r}: {shape}; build the model with the sizes it was trained "
                                   f"with") from None
        if missing or unexpected or not picked:
            raise ConfigError(key, f"{path} (prefix {spec.prefix!r}) does not fit sub-network {spec.module!r}: "
                                   f"missing {list(missing)[:4]}, unexpected {list(unexpected)[:4]}")


def freeze(model: torch.nn.Module, names: Sequence[str]) -> None:
    """Stop gradients of the named sub-networks."""
    for name in names:
        for p in submodule(model, name, "train.freeze").parameters():
            p.requires_grad_(False)


def train_mode(model: torch.nn.Module, frozen: Sequence[str]) -> None:
    """``model.train()``, with the frozen sub-networks kept in evaluation mode."""
    model.train()
    for name in frozen:
        submodule(model, name, "train.freeze").eval()


def parameter_groups(model: torch.nn.Module, lr: float, module_lr: dict[str, float]) -> list[dict]:
    """Trainable parameters grouped by sub-network learning rate (the rest at ``lr``)."""
    owner: dict[int, Optional[str]] = {}
    for name in module_lr:
        for p in submodule(model, name, f"train.module_lr.{name}").parameters():
            owner[id(p)] = name
    groups: dict[Optional[str], list] = {}
    for p in model.parameters():
        if p.requires_grad:
            groups.setdefault(owner.get(id(p)), []).append(p)
    return [{"params": params, "lr": lr if name is None else module_lr[name]} for name, params in groups.items()]
