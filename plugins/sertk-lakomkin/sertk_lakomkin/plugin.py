"""Entry point of the sertk-lakomkin plugin: registers its two features, five models and two analyzers.

Components are registered as lazy ``"module:Class"`` references, so that
discovering the plugin (``sertk list``, ``sertk show``) imports neither torch
nor librosa; each class is imported on first use.
"""
from sertk import hookimpl


def _register(register, components: dict[str, str]) -> None:
    for name, target in components.items():
        register(f"sertk_lakomkin.{target}", name=name)


@hookimpl
def sertk_register_features(register):
    _register(register, {"power_spectrogram": "features:PowerSpectrogram", "mfcc_pitch": "features:MFCCPitch"})


@hookimpl
def sertk_register_models(register):
    _register(register, {"ds2_asr": "models:DS2ASR", "lakomkin_baseline": "models:LakomkinBaseline",
                         "lakomkin_mp": "models:LakomkinMP", "lakomkin_rnn": "models:LakomkinRNN",
                         "lakomkin_progressive": "models:LakomkinProgressive"})


@hookimpl
def sertk_register_analyzers(register):
    _register(register, {"tsne": "analyzers:TSNE", "loudness_correlation": "analyzers:LoudnessCorrelation"})
