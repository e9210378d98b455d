"""The built-in plugin: registers the components in ``sertk.builtins`` and ``sertk.corpora``.

Every built-in is a lazy ``"module:Class"`` reference, so that ``sertk list`` and
``sertk show`` read the sources and import neither numpy nor torch; a class is
imported when a recipe first uses it. This table is the one list of built-ins.
"""
from ..hookspecs import hookimpl

_CORPORA = "sertk.corpora"
_BUILTINS = "sertk.builtins"
BUILTINS = {
    "corpora": {
        "synthetic": f"{_CORPORA}.synthetic:Synthetic",
        "synthetic_continuous": f"{_CORPORA}.synthetic_continuous:SyntheticContinuous",
        "manifest": f"{_CORPORA}.manifest:Manifest",
        "transcribed_manifest": f"{_CORPORA}.manifest:TranscribedManifest",
        "emodb": f"{_CORPORA}.emodb:EmoDB",
        "iemocap": f"{_CORPORA}.iemocap:IEMOCAP",
        "ravdess": f"{_CORPORA}.ravdess:RAVDESS",
        "crema_d": f"{_CORPORA}.crema_d:CremaD",
        "emovo": f"{_CORPORA}.emovo:EMOVO",
        "msp_podcast": f"{_CORPORA}.msp_podcast:MSPPodcast",
        "recola": f"{_CORPORA}.recola:RECOLA",
        "sewa": f"{_CORPORA}.sewa:SEWA",
        "librispeech": f"{_CORPORA}.librispeech:LibriSpeech",
        "mediaeval": f"{_CORPORA}.mediaeval:MediaEval",
    },
    "features": {
        "raw": f"{_BUILTINS}.features:Raw",
        "mfcc": f"{_BUILTINS}.features:MFCC",
        "logmel": f"{_BUILTINS}.features:LogMel",
        "spectrogram": f"{_BUILTINS}.features:Spectrogram",
        "pitch": f"{_BUILTINS}.features:Pitch",
        "opensmile": f"{_BUILTINS}.features:OpenSmile",
        "ssl": f"{_BUILTINS}.ssl:SSL",
    },
    "models": {
        "mlp": f"{_BUILTINS}.models:MLP",
        "linear_svm": f"{_BUILTINS}.svm:LinearSVM",
        "blstm": f"{_BUILTINS}.blstm:BLSTM",
    },
    "losses": {
        "cross_entropy": f"{_BUILTINS}.losses:CrossEntropy",
        "mse": f"{_BUILTINS}.losses:MeanSquaredError",
        "ccc": f"{_BUILTINS}.losses:ConcordanceLoss",
        "sse": f"{_BUILTINS}.losses:SumSquaredError",
        "ctc": f"{_BUILTINS}.losses:CTC",
    },
    "metrics": {
        "ua": f"{_BUILTINS}.metrics:UnweightedAverageRecall",
        "wa": f"{_BUILTINS}.metrics:WeightedAccuracy",
        "f1": f"{_BUILTINS}.metrics:MacroF1",
        "ccc": f"{_BUILTINS}.metrics:ConcordanceCorrelation",
        "pearson": f"{_BUILTINS}.metrics:PearsonCorrelation",
        "rmse": f"{_BUILTINS}.metrics:RootMeanSquaredError",
        "cer": f"{_BUILTINS}.metrics:CharacterErrorRate",
        "per": f"{_BUILTINS}.metrics:PhoneErrorRate",
        "wer": f"{_BUILTINS}.metrics:WordErrorRate",
        "kendall": f"{_BUILTINS}.metrics:KendallTau",
    },
    "protocols": {
        "loso": f"{_BUILTINS}.protocols:LeaveOneSpeakerOut",
        "logo": f"{_BUILTINS}.protocols:LeaveOneGroupOut",
        "speakers": f"{_BUILTINS}.protocols:ExplicitSpeakers",
        "partition": f"{_BUILTINS}.protocols:CorpusPartition",
        "random": f"{_BUILTINS}.protocols:RandomSplit",
        "kfold": f"{_BUILTINS}.protocols:KFold",
        "holdout_speakers": f"{_BUILTINS}.protocols:HoldoutSpeakers",
        "cross_corpus": f"{_BUILTINS}.protocols:CrossCorpus",
    },
    "analyzers": {},  # none ship with the core; paper plugins register theirs
    "augmentations": {
        "gain": f"{_BUILTINS}.augmentations:Gain",
        "tempo": f"{_BUILTINS}.augmentations:Tempo",
        "noise": f"{_BUILTINS}.augmentations:AdditiveNoise",
        "reverb": f"{_BUILTINS}.augmentations:Reverb",
    },
    "strategies": {
        "supervised": f"{_BUILTINS}.strategies:Supervised",
    },
}


def _register(kind: str, register) -> None:
    for name, target in BUILTINS[kind].items():
        register(target, name=name)


@hookimpl
def sertk_register_corpora(register):
    _register("corpora", register)


@hookimpl
def sertk_register_features(register):
    _register("features", register)


@hookimpl
def sertk_register_models(register):
    _register("models", register)


@hookimpl
def sertk_register_losses(register):
    _register("losses", register)


@hookimpl
def sertk_register_metrics(register):
    _register("metrics", register)


@hookimpl
def sertk_register_protocols(register):
    _register("protocols", register)


@hookimpl
def sertk_register_analyzers(register):
    _register("analyzers", register)


@hookimpl
def sertk_register_augmentations(register):
    _register("augmentations", register)


@hookimpl
def sertk_register_strategies(register):
    _register("strategies", register)
