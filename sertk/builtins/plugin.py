"""The built-in plugin: registers the components in ``sertk.builtins`` and ``sertk.corpora``.

Each module lists its components in ``COMPONENTS``; modules are imported
inside the hooks so that loading the plugin stays cheap.
"""
import importlib

from ..hookspecs import hookimpl


def _register(module: str, register) -> None:
    for cls in importlib.import_module(module, __package__).COMPONENTS:
        register(cls)


@hookimpl
def sertk_register_corpora(register):
    _register("..corpora", register)


@hookimpl
def sertk_register_features(register):
    _register(".features", register)
    _register(".ssl", register)


@hookimpl
def sertk_register_models(register):
    _register(".models", register)


@hookimpl
def sertk_register_losses(register):
    _register(".losses", register)


@hookimpl
def sertk_register_metrics(register):
    _register(".metrics", register)


@hookimpl
def sertk_register_protocols(register):
    _register(".protocols", register)


@hookimpl
def sertk_register_analyzers(register):
    _register(".analyzers", register)


@hookimpl
def sertk_register_augmentations(register):
    _register(".augmentations", register)


@hookimpl
def sertk_register_strategies(register):
    _register(".strategies", register)
