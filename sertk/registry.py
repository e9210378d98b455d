"""Name → class per component kind, built from a plugin manager.

``build`` turns a recipe spec ``{name, params}`` into an instance after
checking the params against the constructor signature; ``check`` does the
same without constructing anything, so a whole recipe validates before work.
"""
from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .errors import ConfigError, PluginError, unknown
from .interfaces import Analyzer, Augmentation, Component, Corpus, Feature, Loss, Metric, Protocol, Strategy

KINDS = ("corpora", "features", "models", "losses", "metrics", "protocols", "analyzers", "augmentations",
         "strategies")
SINGULAR = {"corpora": "corpus", "features": "feature", "models": "model", "losses": "loss",
            "metrics": "metric", "protocols": "protocol", "analyzers": "analyzer", "augmentations": "augmentation",
            "strategies": "strategy"}
# Constructor arguments the engine fills in; recipes cannot set them.
DERIVED = ("inputs", "labels")


def _bases(kind: str) -> tuple[type, ...]:
    if kind == "models":
        from .model import EstimatorModel, Model

        return (Model, EstimatorModel)
    return {"corpora": (Corpus,), "features": (Feature,), "losses": (Loss,), "metrics": (Metric,),
            "protocols": (Protocol,), "analyzers": (Analyzer,), "augmentations": (Augmentation,),
            "strategies": (Strategy,)}[kind]


@dataclass(frozen=True)
class Entry:
    """One registered component."""

    kind: str
    name: str
    cls: type
    plugin: str

    @property
    def summary(self) -> str:
        return self.cls.describe()


@dataclass(frozen=True)
class Param:
    """One recipe parameter of a component."""

    name: str
    annotation: Any
    default: Any
    required: bool


class Registry:
    """All registered components, by kind and name."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}

    @classmethod
    def from_plugins(cls, loaded) -> "Registry":
        """Collect every plugin's registrations, remembering which plugin made each."""
        registry = cls()
        for kind in KINDS:
            hook = getattr(loaded.pm.hook, f"sertk_register_{kind}")
            for impl in hook.get_hookimpls():
                impl.function(register=lambda c, _k=kind, _p=impl.plugin_name: registry.add(_k, c, _p))
        return registry

    def add(self, kind: str, cls: type, plugin: str) -> None:
        if not (inspect.isclass(cls) and issubclass(cls, _bases(kind))):
            raise PluginError(f"plugin '{plugin}' registered {cls!r} as one of {kind}, which needs a subclass of "
                              f"{' or '.join(b.__name__ for b in _bases(kind))}")
        name = getattr(cls, "name", "")
        if not name:
            raise PluginError(f"plugin '{plugin}': {cls.__name__} has no `name` attribute")
        if name in self._entries[kind]:
            other = self._entries[kind][name]
            raise PluginError(f"{SINGULAR[kind]} '{name}' is registered twice: by plugin '{other.plugin}' "
                              f"({other.cls.__module__}.{other.cls.__name__}) and by plugin '{plugin}' "
                              f"({cls.__module__}.{cls.__name__}); uninstall one of them")
        self._entries[kind][name] = Entry(kind, name, cls, plugin)

    def entries(self, kind: Optional[str] = None) -> list[Entry]:
        kinds = [kind] if kind else list(KINDS)
        return [e for k in kinds for e in sorted(self._entries[k].values(), key=lambda e: e.name)]

    def names(self, kind: str) -> list[str]:
        return sorted(self._entries[kind])

    def entry(self, kind: str, name: Any, key: str = "") -> Entry:
        if kind not in self._entries:
            raise ConfigError(key or "kind", unknown("component kind", kind, KINDS))
        if not isinstance(name, str) or name not in self._entries[kind]:
            raise ConfigError(key or f"{SINGULAR[kind]}.name", unknown(SINGULAR[kind], name, self.names(kind)))
        return self._entries[kind][name]

    def get(self, kind: str, name: str) -> type:
        return self.entry(kind, name).cls

    # ------------------------------------------------------------- params
    def params(self, kind: str, name: str) -> list[Param]:
        return constructor_params(self.get(kind, name))

    def check(self, kind: str, spec: Any, key: str) -> Entry:
        """Validate ``spec = {name, params}`` at recipe ``key``; return its entry."""
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, Mapping):
            raise ConfigError(key, f"expected a mapping with 'name' and 'params', got {type(spec).__name__}")
        extra = set(spec) - {"name", "params"}
        if extra:
            raise ConfigError(f"{key}.{sorted(extra)[0]}", unknown("key", sorted(extra)[0], ["name", "params"]))
        if "name" not in spec:
            raise ConfigError(f"{key}.name", f"missing; choose one of: {', '.join(self.names(kind))}")
        entry = self.entry(kind, spec["name"], f"{key}.name")
        params = spec.get("params") or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"{key}.params", f"expected a mapping, got {type(params).__name__}")
        check_params(entry.cls, params, f"{key}.params")
        return entry

    def build(self, kind: str, spec: Any, key: str = "", **derived) -> Any:
        """Check then construct; ``derived`` values are passed when the constructor takes them."""
        key = key or SINGULAR[kind]
        entry = self.check(kind, spec, key)
        params = dict((spec.get("params") if isinstance(spec, Mapping) else None) or {})
        accepted = {p.name for p in constructor_params(entry.cls, include_derived=True)}
        takes_any = _takes_kwargs(entry.cls)
        params.update({k: v for k, v in derived.items() if k in accepted or takes_any})
        try:
            return entry.cls(**params)
        except (ValueError, TypeError) as exc:
            raise ConfigError(key, f"{entry.name}: {exc}") from None


def _takes_kwargs(cls: type) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values())


def constructor_params(cls: type, include_derived: bool = False) -> list[Param]:
    """The recipe parameters of a component class, from its ``__init__`` signature."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:
        hints = {}
    out = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if p.name in DERIVED and not include_derived:
            continue
        required = p.default is inspect.Parameter.empty
        out.append(Param(p.name, hints.get(p.name, p.annotation), None if required else p.default, required))
    return out


def check_params(cls: type, params: Mapping[str, Any], key: str) -> None:
    """Unknown, missing and wrongly typed params fail naming the key."""
    valid = {p.name: p for p in constructor_params(cls)}
    for name, value in params.items():
        if name not in valid:
            if name in DERIVED:
                raise ConfigError(f"{key}.{name}", "is set by the engine and cannot be given in a recipe")
            raise ConfigError(f"{key}.{name}", unknown(f"parameter of {cls.name}", name, valid) if valid
                              else f"{cls.name} takes no parameters")
        problem = type_problem(value, valid[name].annotation)
        if problem:
            raise ConfigError(f"{key}.{name}", problem)
    missing = [p.name for p in valid.values() if p.required and p.name not in params]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}", f"required parameter of {cls.name} is missing")


def type_problem(value: Any, annotation: Any) -> Optional[str]:
    """A message if ``value`` does not fit a simple annotation, else None."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return None
    if _fits(value, annotation):
        return None
    return f"expected {_type_name(annotation)}, got {type(value).__name__} {value!r}"


def _fits(value: Any, ann: Any) -> bool:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        return any(_fits(value, a) for a in args)
    if ann is type(None):
        return value is None
    if origin is typing.Literal:
        return value in args
    if ann is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if ann is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (list, tuple, typing.Sequence) or ann in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        inner = args[0] if args and (origin is list or len(args) == 2 and args[1] is Ellipsis) else None
        return inner is None or all(_fits(v, inner) for v in value)
    if origin is dict or ann is dict or origin is typing.Mapping:
        return isinstance(value, Mapping)
    if isinstance(ann, type):
        return isinstance(value, ann)
    return True


def _type_name(ann: Any) -> str:
    if typing.get_origin(ann) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(ann))
    return getattr(ann, "__name__", None) or str(ann).replace("typing.", "")
