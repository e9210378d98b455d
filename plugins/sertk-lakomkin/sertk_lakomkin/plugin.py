"""Entry point of the sertk-lakomkin plugin: registers its two features, five models and two analyzers.

The modules are imported inside the hooks so that discovering the plugin
(``sertk list``) imports neither torch nor librosa.
"""
from sertk import hookimpl


@hookimpl
def sertk_register_features(register):
    from .features import MFCCPitch, PowerSpectrogram

    register(PowerSpectrogram)
    register(MFCCPitch)


@hookimpl
def sertk_register_models(register):
    from .models import COMPONENTS

    for cls in COMPONENTS:
        register(cls)


@hookimpl
def sertk_register_analyzers(register):
    from .analyzers import COMPONENTS

    for cls in COMPONENTS:
        register(cls)
