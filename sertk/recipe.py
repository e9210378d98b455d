"""YAML recipes: safe loading, ``--set`` overrides, validation before any work.

A recipe is a mapping of sections.  Component sections are ``{name, params}``
mapped to registered classes; ``data``, ``train``, ``tune`` and ``output``
are typed settings.  Every problem is a one-line :class:`ConfigError` naming
the key and the closest valid choice.
"""
from __future__ import annotations

import copy
import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import yaml

from .errors import ConfigError, SertkError, unknown
from .registry import Registry
from .safe_yaml import load_yaml
from .settings import DataConfig, FeatureSpec, FusionConfig, OutputConfig, TrainConfig, TuneConfig, from_mapping

SECTIONS = ("corpus", "data", "features", "augment", "model", "loss", "train", "strategy", "protocol", "metrics",
            "analyzers", "tune", "output", "fusion")
REQUIRED = ("corpus", "features", "model")
FUSION_SHARED = ("corpus", "data", "train", "protocol", "metrics")  # a fusion recipe's sections for every system
SYSTEM_KEYS = ("recipe", "set", "name")


@dataclass
class Recipe:
    """A validated recipe. ``raw`` is the resolved mapping written to the run directory."""

    raw: dict
    source: str
    corpus: list[dict]
    data: DataConfig
    features: list[FeatureSpec]
    model: dict
    loss: Optional[dict]
    train: TrainConfig
    protocol: dict
    augment: list[dict]
    strategy: dict
    metrics: list[dict]
    analyzers: list[dict]
    tune: TuneConfig
    output: OutputConfig
    fusion: Optional[FusionConfig] = None
    members: list[tuple[str, "Recipe"]] = field(default_factory=list)  # fusion: (name, system recipe)

    @property
    def stem(self) -> str:
        return Path(self.source).stem if self.source else "recipe"


# ------------------------------------------------------------------ loading
def read_yaml(path: Union[str, Path]) -> dict:
    """Parse a recipe file; syntax errors name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SertkError(f"{path}: cannot read recipe ({exc.strerror})") from None
    try:
        data = load_yaml(text, str(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SertkError(f"{path}{line}: YAML syntax error: {problem}") from None
    if not isinstance(data, dict):
        raise SertkError(f"{path}: a recipe must be a mapping of sections ({', '.join(SECTIONS)})")
    return data


def apply_overrides(data: dict, overrides: typing.Iterable[str]) -> dict:
    """Apply ``key.path=value`` overrides (values parsed as YAML; list items by index)."""
    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise SertkError(f"--set {item}: expected KEY=VALUE, e.g. --set train.epochs=3")
        key, text = item.split("=", 1)
        try:
            value = load_yaml(text, f"--set {key.strip()}")
        except yaml.YAMLError:
            value = text
        _assign(data, key.strip().split("."), value, key)
    return data


def _assign(node: Any, parts: list[str], value: Any, key: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        if not head.isdigit() or int(head) >= len(node):
            raise ConfigError(key, f"'{head}' is not an index of this list (0..{len(node) - 1})")
        index: Any = int(head)
    elif isinstance(node, dict):
        index = head
    else:
        raise ConfigError(key, f"cannot set '{head}' inside a {type(node).__name__}")
    if not rest:
        node[index] = value
        return
    if isinstance(node, dict) and not isinstance(node.get(index), (dict, list)):
        node[index] = {}
    _assign(node[index], rest, value, key)


def load_recipe(path: Union[str, Path], overrides: typing.Iterable[str] = (), registry: Optional[Registry] = None) -> Recipe:
    """Read, override and validate a recipe file."""
    raw = apply_overrides(read_yaml(path), overrides)
    return parse_recipe(raw, str(path), registry)


def parse_recipe(raw: dict, source: str = "", registry: Optional[Registry] = None) -> Recipe:
    """Validate a recipe mapping; with a registry, component names and params too."""
    if raw.get("fusion") is not None:
        return _parse_fusion(raw, source, registry)
    for section in raw:
        if section not in SECTIONS:
            raise ConfigError(str(section), unknown("section", section, SECTIONS), source)
    for section in REQUIRED:
        if raw.get(section) is None:
            raise ConfigError(section, "missing required section", source)
    try:
        recipe = Recipe(
            raw=raw,
            source=source,
            corpus=_spec_list(raw["corpus"], "corpus"),
            data=from_mapping(DataConfig, raw.get("data") or {}, "data"),
            features=[from_mapping(FeatureSpec, f, f"features.{i}") for i, f in
                      enumerate(_as_list(raw["features"], "features"))],
            model=_spec(raw["model"], "model"),
            loss=_spec(raw["loss"], "loss") if raw.get("loss") is not None else None,
            train=from_mapping(TrainConfig, raw.get("train") or {}, "train"),
            protocol=_spec(raw.get("protocol") or {"name": "loso"}, "protocol"),
            augment=_spec_list(raw.get("augment") or [], "augment"),
            strategy=_spec(raw.get("strategy") or {"name": "supervised"}, "strategy"),
            metrics=_spec_list(raw.get("metrics") or ["ua", "wa", "f1"], "metrics"),
            analyzers=_spec_list(raw.get("analyzers") or [], "analyzers"),
            tune=from_mapping(TuneConfig, raw.get("tune") or {}, "tune"),
            output=from_mapping(OutputConfig, raw.get("output") or {}, "output"),
        )
        keys = [f.input_key for f in recipe.features]
        for i, k in enumerate(keys):
            if keys.index(k) != i:
                raise ConfigError(f"features.{i}.key", f"two features use input key '{k}'; give one a distinct `key`")
        if registry is not None:
            check_components(recipe, registry)
    except ConfigError as exc:
        if source and not exc.source:
            raise ConfigError(exc.key, str(exc).split(": ", 1)[1], source) from None
        raise
    return recipe


def _parse_fusion(raw: dict, source: str, registry: Optional[Registry]) -> Recipe:
    """A fusion recipe: ``fusion`` lists the systems; ``corpus``, ``data``, ``train``,
    ``protocol`` and ``metrics`` apply to every system, ``output`` to the fused run."""
    for section in raw:
        if section not in (*FUSION_SHARED, "fusion", "output") and raw[section] is not None:
            problem = ("a fusion recipe names features and models per system; move it into the entries of "
                       "fusion.systems") if section in SECTIONS else unknown("section", section, SECTIONS)
            raise ConfigError(str(section), problem, source)
    try:
        fusion = from_mapping(FusionConfig, raw["fusion"], "fusion")
        output = from_mapping(OutputConfig, raw.get("output") or {}, "output")
    except ConfigError as exc:
        raise ConfigError(exc.key, str(exc).split(": ", 1)[1], source) from None
    shared = {k: raw[k] for k in FUSION_SHARED if raw.get(k) is not None}
    members: list[tuple[str, Recipe]] = []
    for i, system in enumerate(fusion.systems):
        key = f"fusion.systems.{i}"
        name, member = _system(system, shared, source, key, i)
        if name in [n for n, _ in members]:
            raise ConfigError(f"{key}.name", f"'{name}' names two systems; give each a distinct name", source)
        members.append((name, parse_recipe(member, f"{source} {key}".strip(), registry)))
    first = members[0][1]
    return dataclasses.replace(first, raw=raw, source=source, features=[], model={}, loss=None, augment=[],
                               analyzers=[], tune=TuneConfig(), output=output, fusion=fusion, members=members)


def _system(system: Any, shared: dict, source: str, key: str, index: int) -> tuple[str, dict]:
    """One fusion system's name and recipe mapping: its file (``recipe``, found from the
    current folder or next to the fusion recipe), the shared sections, its own sections,
    then its ``set`` overrides."""
    system = {"recipe": system} if isinstance(system, str) else system
    if not isinstance(system, Mapping):
        raise ConfigError(key, f"expected a recipe path or {{recipe, set, name, sections}}, got "
                               f"{type(system).__name__}", source)
    for k in system:
        if k not in (*SYSTEM_KEYS, *SECTIONS) or k == "fusion":
            raise ConfigError(f"{key}.{k}", unknown("key", k, (*SYSTEM_KEYS, *SECTIONS[:-1])), source)
    path, sets = system.get("recipe"), system.get("set") or []
    base: dict = {}
    if path is not None:
        found = next((p for p in (Path(str(path)), Path(source).parent / str(path)) if p.is_file()), None)
        if found is None:
            raise ConfigError(f"{key}.recipe", f"no recipe file '{path}' (looked in the current folder and next "
                                               f"to the fusion recipe)", source)
        base = read_yaml(found)
        if "fusion" in base:
            raise ConfigError(f"{key}.recipe", f"{found} is a fusion recipe itself; list its systems here", source)
    if not isinstance(sets, list) or not all(isinstance(s, str) for s in sets):
        raise ConfigError(f"{key}.set", "expected a list of KEY=VALUE overrides", source)
    merged = _merge(_merge(base, shared), {k: v for k, v in system.items() if k in SECTIONS})
    merged.pop("output", None)
    try:
        merged = apply_overrides(merged, sets)
    except SertkError as exc:
        raise ConfigError(f"{key}.set", str(exc), source) from None
    name = str(system.get("name") or (Path(str(path)).stem if path else f"system{index + 1}"))
    from .atomic import safe_name

    if name != safe_name(name) or name in (".", ".."):
        raise ConfigError(f"{key}.name", f"must be a plain folder name (letters, digits, . _ @ -), got {name!r}",
                          source)
    return name, merged


def _merge(base: dict, top: dict) -> dict:
    """``top`` over ``base``: settings sections (data, train, ...) key by key, other sections replaced."""
    out = copy.deepcopy(base)
    for k, v in top.items():
        old = out.get(k)
        if isinstance(old, dict) and isinstance(v, dict) and k in ("data", "train", "tune"):
            out[k] = _deep(old, v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _deep(base: dict, top: dict) -> dict:
    out = dict(base)
    for k, v in top.items():
        out[k] = _deep(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else copy.deepcopy(v)
    return out


def component_specs(recipe: Recipe) -> list[tuple[str, Any, str]]:
    """Every component the recipe names: ``(kind, {name, params}, recipe key)``."""
    specs = [("corpora", spec, "corpus" if len(recipe.corpus) == 1 else f"corpus.{i}")
             for i, spec in enumerate(recipe.corpus)]
    specs += [("features", {"name": f.name, "params": f.params}, f"features.{i}")
              for i, f in enumerate(recipe.features)]
    specs.append(("models", recipe.model, "model"))
    if recipe.loss is not None:
        specs.append(("losses", recipe.loss, "loss"))
    specs += [("protocols", recipe.protocol, "protocol"), ("strategies", recipe.strategy, "strategy")]
    for kind, key, items in (("augmentations", "augment", recipe.augment), ("metrics", "metrics", recipe.metrics),
                             ("analyzers", "analyzers", recipe.analyzers)):
        specs += [(kind, spec, f"{key}.{i}") for i, spec in enumerate(items)]
    return specs


def check_components(recipe: Recipe, registry: Registry) -> None:
    """Every component exists and its params fit its constructor."""
    for kind, spec, key in component_specs(recipe):
        registry.check(kind, spec, key)
    metric_names = [m["name"] for m in recipe.metrics]
    for key, name in (("train.early_stopping.metric", recipe.train.early_stopping.metric),
                      ("tune.metric", recipe.tune.metric)):
        if name is not None and name not in metric_names:
            raise ConfigError(key, unknown("metric (it must be listed under `metrics`)", name, metric_names))


def _as_list(value: Any, key: str) -> list:
    if isinstance(value, list):
        if not value:
            raise ConfigError(key, "is empty; give at least one entry")
        return value
    return [value]


def _spec(value: Any, key: str) -> dict:
    if isinstance(value, str):
        return {"name": value, "params": {}}
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"expected {{name, params}}, got {type(value).__name__}")
    params = value.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"{key}.params", f"expected a mapping of parameter names to values, got "
                                           f"{type(params).__name__}")
    return {"name": value.get("name"), "params": dict(params),
            **{k: v for k, v in value.items() if k not in ("name", "params")}}


def _spec_list(value: Any, key: str) -> list[dict]:
    if isinstance(value, list):
        return [_spec(v, f"{key}.{i}") for i, v in enumerate(value)]
    return [_spec(value, key)]


def resolved(recipe: Recipe) -> dict:
    """The recipe with every default filled in, as written to the run directory (a fusion
    recipe: its shared sections and each system resolved inline)."""
    if recipe.fusion is not None:
        systems = [{"name": name, **{k: v for k, v in resolved(m).items() if k != "output"}}
                   for name, m in recipe.members]
        return {"corpus": recipe.corpus if len(recipe.corpus) > 1 else recipe.corpus[0], "protocol": recipe.protocol,
                "metrics": recipe.metrics, "fusion": {**dataclasses.asdict(recipe.fusion), "systems": systems},
                "output": dataclasses.asdict(recipe.output)}
    out = dict(recipe.raw)
    out["data"] = dataclasses.asdict(recipe.data)
    out["train"] = dataclasses.asdict(recipe.train)
    out["tune"] = dataclasses.asdict(recipe.tune)
    out["output"] = dataclasses.asdict(recipe.output)
    out["features"] = [dataclasses.asdict(f) for f in recipe.features]
    out["protocol"] = recipe.protocol
    out["strategy"] = recipe.strategy
    out["metrics"] = recipe.metrics
    return out
