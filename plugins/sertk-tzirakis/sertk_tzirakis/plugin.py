"""Entry point of the sertk-tzirakis plugin: registers its feature, model and strategy.

The modules are imported inside the hooks so that discovering the plugin
(``sertk list``) does not import torch.
"""
from sertk import hookimpl


@hookimpl
def sertk_register_features(register):
    from .words import WordSpans

    register(WordSpans)


@hookimpl
def sertk_register_models(register):
    from .model import TzirakisFusion

    register(TzirakisFusion)


@hookimpl
def sertk_register_strategies(register):
    from .strategy import SemanticPretraining

    register(SemanticPretraining)
