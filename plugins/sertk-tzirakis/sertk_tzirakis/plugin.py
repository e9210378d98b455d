"""Entry point of the sertk-tzirakis plugin: registers its feature, model and strategy.

Components are registered as lazy ``"module:Class"`` references, so that
discovering the plugin (``sertk list``, ``sertk show``) does not import torch;
each class is imported on first use.
"""
from sertk import hookimpl


@hookimpl
def sertk_register_features(register):
    register("sertk_tzirakis.words:WordSpans", name="word_spans")


@hookimpl
def sertk_register_models(register):
    register("sertk_tzirakis.model:TzirakisFusion", name="tzirakis_fusion")


@hookimpl
def sertk_register_strategies(register):
    register("sertk_tzirakis.strategy:SemanticPretraining", name="tzirakis_semantic")
