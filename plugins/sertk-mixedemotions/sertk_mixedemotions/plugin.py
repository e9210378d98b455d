"""Entry point of the sertk-mixedemotions plugin: registers its features, models, strategies and analyzers.

Components are registered as lazy ``"module:Class"`` references, so that
discovering the plugin (``sertk list``, ``sertk show``) imports neither torch
nor opensmile; each class is imported on first use.
"""
from sertk import hookimpl


def _register(register, components: dict[str, str]) -> None:
    for name, target in components.items():
        register(f"sertk_mixedemotions.{target}", name=name)


@hookimpl
def sertk_register_features(register):
    _register(register, {"smile_windows": "features:SmileWindows", "lld_functionals": "features:LLDFunctionals",
                         "corrupted_mfcc": "corruption:CorruptedMFCC"})


@hookimpl
def sertk_register_models(register):
    _register(register, {"logistic_regression": "logistic:LogisticRegression", "e2e_crnn": "e2e:EndToEnd",
                         "lstm_drnn": "drnn:LSTMDRNN", "frame_linear": "drnn:FrameLinear",
                         "rda_backend": "rda:RDABackend", "mapped_mlp": "transfer:MappedMLP"})


@hookimpl
def sertk_register_strategies(register):
    _register(register, {"svr_grid": "svr:SVRGrid", "rda_enhance": "enhancement:RDAEnhance",
                         "cooperative_learning": "cooperative:CooperativeLearning", "cca_align": "transfer:CCAAlign",
                         "sae_transfer": "transfer:SAETransfer"})


@hookimpl
def sertk_register_analyzers(register):
    _register(register, {"cooperative_curves": "curves:CooperativeCurves", "postprocess": "postprocess:PostProcess",
                         "cell_correlation": "cells:CellCorrelation"})
