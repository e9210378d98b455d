"""Entry point of the sertk-wieser plugin: registers its models and analyzers.

Modules are imported inside the hooks so that loading the plugin (e.g. for
``sertk list``) does not import torch.
"""
from sertk import hookimpl


@hookimpl
def sertk_register_models(register):
    from .models import COMPONENTS

    for cls in COMPONENTS:
        register(cls)


@hookimpl
def sertk_register_analyzers(register):
    from .activation import ActivationMaximization
    from .saliency import Saliency

    register(Saliency)
    register(ActivationMaximization)
