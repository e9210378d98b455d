"""Entry point of the sertk-wieser plugin: registers its models and analyzers.

Components are registered as lazy ``"module:Class"`` references, so that
loading the plugin (``sertk list``, ``sertk show``) does not import torch;
each class is imported on first use.
"""
from sertk import hookimpl


def _register(register, components: dict[str, str]) -> None:
    for name, target in components.items():
        register(f"sertk_wieser.{target}", name=name)


@hookimpl
def sertk_register_models(register):
    _register(register, {"elor": "models:ELoR", "lom": "models:LoM", "ftr": "models:FTR",
                         "elor_ftr": "models:ELoRFTR"})


@hookimpl
def sertk_register_analyzers(register):
    _register(register, {"saliency": "saliency:Saliency", "activation_maximization": "activation:ActivationMaximization"})
