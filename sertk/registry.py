"""Name → class per component kind, built from a plugin manager.

A plugin registers a class, or a lazy ``"module:Class"`` reference with its
name: listing and showing it read the source, and the class is imported on
first use.

``build`` turns a recipe spec ``{name, params}`` into an instance after
checking the params against the constructor signature; ``check`` does the
same without constructing anything, so a whole recipe validates before work.
"""
from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from .errors import ConfigError, PluginError, unknown
from .interfaces import Analyzer, Augmentation, Component, Corpus, Feature, Loss, Metric, Protocol, Strategy

KINDS = ("corpora", "features", "models", "losses", "metrics", "protocols", "analyzers", "augmentations",
         "strategies")
SINGULAR = {"corpora": "corpus", "features": "feature", "models": "model", "losses": "loss",
            "metrics": "metric", "protocols": "protocol", "analyzers": "analyzer", "augmentations": "augmentation",
            "strategies": "strategy"}
# Constructor arguments the engine fills in; recipes cannot set them.
DERIVED = ("inputs", "labels")


def _bases(kind: str, cls: Any = None) -> tuple[type, ...]:
    """The interfaces a component of ``kind`` may subclass (an estimator ``cls`` is
    checked without importing torch)."""
    if kind == "models":
        from .estimator import EstimatorModel

        if inspect.isclass(cls) and issubclass(cls, EstimatorModel):
            return (EstimatorModel,)
        from .model import Model

        return (Model, EstimatorModel)
    return {"corpora": (Corpus,), "features": (Feature,), "losses": (Loss,), "metrics": (Metric,),
            "protocols": (Protocol,), "analyzers": (Analyzer,), "augmentations": (Augmentation,),
            "strategies": (Strategy,)}[kind]


class Entry:
    """One registered component; one registered as ``"module:Class"`` is imported on first use of ``cls``."""

    def __init__(self, kind: str, name: str, plugin: str, target: str, summary: str = "",
                 cls: Optional[type] = None) -> None:
        self.kind, self.name, self.plugin, self.target = kind, name, plugin, target
        self._summary, self._cls = summary, cls

    @property
    def cls(self) -> type:
        if self._cls is None:
            self._cls = _import(self)
        return self._cls

    @property
    def loaded(self) -> bool:
        return self._cls is not None

    @property
    def summary(self) -> str:
        if not self._summary and not self.loaded:
            self._summary = _summary(self._static(head=True))
        return self._summary or self.cls.describe()  # an inherited summary needs the class

    @property
    def doc(self) -> str:
        """The class docstring (read from the source while the class is not imported)."""
        doc = self.cls.__doc__ if self.loaded else ast.get_docstring(self._static(head=True))
        return inspect.cleandoc(doc or self.summary)

    def params(self) -> list[Param]:
        """The recipe parameters, from the source where they are literal there, else from the imported class."""
        static = None if self.loaded else _source_params(self._static(head=False))
        return static if static is not None else constructor_params(self.cls)

    def _static(self, head: bool) -> ast.ClassDef:
        module, _, qualname = self.target.partition(":")
        try:
            return _class_node(module, qualname, head)
        except (ImportError, OSError, SyntaxError, LookupError) as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> PluginError:
        return PluginError(f"plugin '{self.plugin}': {SINGULAR[self.kind]} '{self.name}' points to "
                           f"'{self.target}', which cannot be loaded ({type(exc).__name__}: {exc}); "
                           f"fix the plugin or uninstall it")


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
                impl.function(register=lambda c, _k=kind, _p=impl.plugin_name, **meta: registry.add(_k, c, _p, **meta))
        return registry

    def add(self, kind: str, component: Union[type, str], plugin: str, name: Optional[str] = None,
            summary: str = "") -> None:
        """Register a class, or ``"module:Class"`` with its ``name`` (and ``summary``), imported on first use."""
        if isinstance(component, str):
            entry = _lazy_entry(kind, component, plugin, name, summary)
        elif name is not None or summary:
            raise PluginError(f"plugin '{plugin}': name= and summary= go with a lazy \"module:Class\" reference; "
                              f"a registered class carries its own")
        else:
            _check_class(kind, component, plugin)
            entry = Entry(kind, component.name, plugin, f"{component.__module__}:{component.__qualname__}",
                          cls=component)
        other = self._entries[kind].get(entry.name)
        if other is not None:
            raise PluginError(f"{SINGULAR[kind]} '{entry.name}' is registered twice: by plugin '{other.plugin}' "
                              f"({other.target}) and by plugin '{plugin}' ({entry.target}); uninstall one of them")
        self._entries[kind][entry.name] = entry

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


_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def _lazy_entry(kind: str, target: str, plugin: str, name: Optional[str], summary: str) -> Entry:
    if not _TARGET.fullmatch(target):
        raise PluginError(f"plugin '{plugin}' registered {target!r} as one of {kind}; a lazy reference is "
                          f"\"package.module:Class\"")
    if not name or not isinstance(name, str):
        raise PluginError(f"plugin '{plugin}': register({target!r}) needs name=, the component's recipe name")
    return Entry(kind, name, plugin, target, summary)


def _check_class(kind: str, cls: Any, plugin: str) -> None:
    if not (inspect.isclass(cls) and issubclass(cls, _bases(kind, cls))):
        raise PluginError(f"plugin '{plugin}' registered {cls!r} as one of {kind}, which needs a subclass of "
                          f"{' or '.join(b.__name__ for b in _bases(kind))}")
    if not getattr(cls, "name", ""):
        raise PluginError(f"plugin '{plugin}': {cls.__name__} has no `name` attribute")


def _import(entry: Entry) -> type:
    """The class behind a lazy entry, checked like a registered class."""
    module, _, qualname = entry.target.partition(":")
    try:
        cls = functools.reduce(getattr, qualname.split("."), importlib.import_module(module))
    except Exception as exc:  # a missing module or dependency, or a typo in the reference
        raise entry._error(exc) from None
    _check_class(entry.kind, cls, entry.plugin)
    if cls.name != entry.name:
        raise PluginError(f"plugin '{entry.plugin}' registered '{entry.target}' as {SINGULAR[entry.kind]} "
                          f"'{entry.name}', but its `name` is '{cls.name}'")
    return cls


@functools.lru_cache(maxsize=None)
def _text(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or not (spec.origin or "").endswith(".py"):
        raise ImportError(f"no Python source for module '{module}'")
    return Path(spec.origin).read_text(encoding="utf-8")


def _class_node(module: str, qualname: str, head: bool) -> ast.ClassDef:
    """The class's definition, parsed from its own block (up to its first method when ``head``) if that parses."""
    text = _text(module)
    block = re.search(rf"^class {qualname.split('.')[0]}\b.*?(?=^[^\s#)\]]|\Z)", text, re.M | re.S)
    source = block.group(0) if block else text
    if head:
        source = re.split(r"^\s+(?:@|def |async def )", source, maxsplit=1, flags=re.M)[0]
    try:
        node: Any = ast.parse(source)
    except SyntaxError:
        node = ast.parse(text)
    for part in qualname.split("."):
        node = next((n for n in node.body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if node is None:
            raise LookupError(f"module '{module}' defines no class {qualname}")
    return node


def _summary(node: ast.ClassDef) -> str:
    """``summary`` when it is a literal in the class body, else the docstring's first line."""
    doc = ast.get_docstring(node) or ""
    return next((n.value.value for n in node.body if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "summary" for t in n.targets)
                 and isinstance(n.value, ast.Constant)), "") or (doc.splitlines()[0] if doc else "")


def _source_params(node: ast.ClassDef) -> Optional[list[Param]]:
    init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None or init.args.posonlyargs:
        return None
    args = init.args.args[1:]
    defaults = [None] * (len(args) - len(init.args.defaults)) + list(init.args.defaults)
    out = []
    for arg, default in [*zip(args, defaults), *zip(init.args.kwonlyargs, init.args.kw_defaults)]:
        if arg.arg in DERIVED:
            continue
        try:
            value = None if default is None else ast.literal_eval(default)
        except (ValueError, TypeError, SyntaxError):
            return None
        annotation = ast.unparse(arg.annotation) if arg.annotation else inspect.Parameter.empty
        out.append(Param(arg.arg, annotation, value, default is None))
    return out


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
