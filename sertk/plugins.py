"""Plugin discovery: built-ins first, then the ``sertk`` entry points one by one."""
from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass, field

import pluggy

from . import hookspecs

GROUP = "sertk"
BUILTIN = "sertk"


@dataclass
class PluginInfo:
    """A loaded (or failed) plugin: its name, distribution and version."""

    name: str
    distribution: str
    version: str
    error: str = ""


@dataclass
class LoadedPlugins:
    """The plugin manager plus what was found while loading it."""

    pm: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)

    @property
    def failures(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]

    def info(self, name: str) -> PluginInfo:
        for p in self.plugins:
            if p.name == name:
                return p
        return PluginInfo(name, name, "")


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    return pm


def _version() -> str:
    from . import __version__

    return __version__


def load_plugins(entry_points: bool = True, builtins: bool = True) -> LoadedPlugins:
    """A plugin manager with the built-ins and every installed plugin.

    A plugin that fails to import is recorded with its error; the others load.
    ``check_pending`` rejects hook implementations with misspelled names.
    """
    loaded = LoadedPlugins(new_plugin_manager())
    if builtins:
        from .builtins import plugin as builtin_plugin

        loaded.pm.register(builtin_plugin, name=BUILTIN)
        loaded.plugins.append(PluginInfo(BUILTIN, "sertk", _version()))
    if entry_points:
        for ep in importlib.metadata.entry_points(group=GROUP):
            dist = getattr(ep, "dist", None)
            info = PluginInfo(ep.name, dist.name if dist else ep.value, dist.version if dist else "")
            if loaded.pm.get_plugin(ep.name) is not None or loaded.pm.is_blocked(ep.name):
                continue
            try:
                loaded.pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not take the others down
                info.error = f"{type(exc).__name__}: {exc}"
            loaded.plugins.append(info)
    try:
        loaded.pm.check_pending()
    except pluggy.PluginValidationError as exc:
        from .errors import PluginError

        name = loaded.pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"plugin '{name}': {exc}; fix the hook name in that plugin or uninstall it") from None
    return loaded
