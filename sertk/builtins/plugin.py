"""The built-in plugin: registers the components in ``sertk.builtins`` and ``sertk.corpora``.

Each light module lists its components in ``COMPONENTS`` and is imported
inside its hook; the torch-based models and losses are registered as lazy
references, so that ``sertk list`` and ``sertk show`` never import torch.
"""
import importlib

from ..hookspecs import hookimpl

LAZY = {
    "models": {"mlp": "sertk.builtins.models:MLP", "linear_svm": "sertk.builtins.svm:LinearSVM",
               "blstm": "sertk.builtins.blstm:BLSTM"},
    "losses": {"cross_entropy": "sertk.builtins.losses:CrossEntropy", "mse": "sertk.builtins.losses:MeanSquaredError",
               "ccc": "sertk.builtins.losses:ConcordanceLoss", "sse": "sertk.builtins.losses:SumSquaredError",
               "ctc": "sertk.builtins.losses:CTC"},
}


def _register(module: str, register) -> None:
    for cls in importlib.import_module(module, __package__).COMPONENTS:
        register(cls)


def _register_lazy(kind: str, register) -> None:
    for name, target in LAZY[kind].items():
        register(target, name=name)


@hookimpl
def sertk_register_corpora(register):
    _register("..corpora", register)


@hookimpl
def sertk_register_features(register):
    _register(".features", register)
    _register(".ssl", register)


@hookimpl
def sertk_register_models(register):
    _register_lazy("models", register)


@hookimpl
def sertk_register_losses(register):
    _register_lazy("losses", register)


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
