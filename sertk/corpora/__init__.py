"""The built-in corpora, each in its own distribution layout (see docs/corpora.md)."""
from .crema_d import CremaD
from .emodb import EmoDB
from .emovo import EMOVO
from .iemocap import IEMOCAP
from .librispeech import LibriSpeech
from .manifest import Manifest, TranscribedManifest
from .mediaeval import MediaEval
from .msp_podcast import MSPPodcast
from .ravdess import RAVDESS
from .recola import RECOLA
from .sewa import SEWA
from .synthetic import Synthetic
from .synthetic_continuous import SyntheticContinuous

COMPONENTS = [Synthetic, SyntheticContinuous, Manifest, TranscribedManifest, EmoDB, IEMOCAP, RAVDESS, CremaD, EMOVO,
              MSPPodcast, RECOLA, SEWA, LibriSpeech, MediaEval]
