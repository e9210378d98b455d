"""pluggy hook specifications: one ``sertk_register_<kind>(register)`` per component kind.

A plugin implements any of them and calls ``register(SomeClass)`` once per
component (the class's ``name`` attribute is its recipe name), or
``register("package.module:SomeClass", name=..., summary=...)`` to have the
class imported only when a recipe uses it.
"""
import pluggy

hookspec = pluggy.HookspecMarker("sertk")
hookimpl = pluggy.HookimplMarker("sertk")


@hookspec
def sertk_register_corpora(register):
    """Register :class:`sertk.Corpus` subclasses."""


@hookspec
def sertk_register_features(register):
    """Register :class:`sertk.Feature` subclasses."""


@hookspec
def sertk_register_models(register):
    """Register :class:`sertk.Model` or :class:`sertk.EstimatorModel` subclasses."""


@hookspec
def sertk_register_losses(register):
    """Register :class:`sertk.Loss` subclasses."""


@hookspec
def sertk_register_metrics(register):
    """Register :class:`sertk.Metric` subclasses."""


@hookspec
def sertk_register_protocols(register):
    """Register :class:`sertk.Protocol` subclasses (fold generators)."""


@hookspec
def sertk_register_analyzers(register):
    """Register :class:`sertk.Analyzer` subclasses."""


@hookspec
def sertk_register_augmentations(register):
    """Register :class:`sertk.Augmentation` subclasses (on-the-fly training augmentation)."""


@hookspec
def sertk_register_strategies(register):
    """Register :class:`sertk.Strategy` subclasses (how a fold's model is trained)."""
