"""Self-supervised speech representations: wav2vec 2.0, HuBERT and WavLM layers as features.

The network is built with torchaudio's model builders and its weights come from
a local checkpoint file (a torchaudio ``Wav2Vec2Model`` state dict); nothing is
downloaded.  torch and torchaudio are imported inside the methods: listing
components stays fast, and a spawned extraction worker that unpickles this
feature imports torch only after it has limited torch to one thread.  The
learned layer weighting for ``layer: all`` is ``sertk.nn.LayerWeightedSum``.
"""
from __future__ import annotations

import inspect
import os
import re
import typing
import zipfile
from typing import Any, Literal, Optional, Union

import numpy as np

from ..errors import SertkError, unknown
from ..interfaces import Feature

SAMPLE_RATE = 16000  # every architecture here is trained on 16-kHz audio
# torchaudio.models builders: standard sizes, then the generic builders that take every size from ``config``
Architecture = Literal["wav2vec2_base", "wav2vec2_large", "wav2vec2_large_lv60k", "wav2vec2_xlsr_300m",
                       "wav2vec2_xlsr_1b", "wav2vec2_xlsr_2b", "hubert_base", "hubert_large", "hubert_xlarge",
                       "wavlm_base", "wavlm_large", "wav2vec2_model", "wavlm_model"]
ARCHITECTURES = typing.get_args(Architecture)
CONVERT = ("save a torchaudio Wav2Vec2Model state dict with torch.save(model.state_dict(), path) "
           "(docs/features.md shows how to convert Hugging Face and fairseq models)")


class SSL(Feature):
    """Hidden layers of a self-supervised speech model (wav2vec 2.0, HuBERT, WavLM) from a local checkpoint.

    ``architecture`` names a torchaudio builder (``torchaudio.models.<name>``):
    the standard sizes by name (``wav2vec2_base``, ``hubert_large``,
    ``wavlm_base``, ...), whose ``config`` may only override builder
    arguments such as ``aux_num_out``; or the generic ``wav2vec2_model`` /
    ``wavlm_model``, whose ``config`` gives every builder argument.
    ``checkpoint`` is a local file holding a torchaudio ``Wav2Vec2Model``
    state dict (plain, or under ``state_dict`` / ``model``), loaded with
    ``torch.load(weights_only=True)``; a ``module.`` prefix is stripped and a
    CTC head (``aux.*``) is ignored unless ``config`` sets ``aux_num_out``.

    ``layer``: ``k`` >= 1 is the output of transformer layer k as torchaudio's
    ``extract_features`` gives it; 0 is the transformer's input (the
    projected CNN features plus the positional convolution, layer-normed in
    post-norm models: Hugging Face's ``hidden_states[0]``); ``mean`` averages
    layers 0..L uniformly; ``all`` puts layers 0..L side by side,
    (frames, (L + 1) * dim), for a model that learns their weights
    (``sertk.nn.LayerWeightedSum``).  ``pool`` averages the frames into one
    vector per segment.  Frames come every 20 ms (50 per second, the CNN's
    stride of 320 samples at 16 kHz).  Other sample rates are resampled to
    16 kHz inside (torchaudio's sinc resampler).  ``normalize_waveform``
    z-scores each segment first, as checkpoints whose preprocessing has
    ``do_normalize`` expect.  A segment passes the transformer whole, so
    attention cost grows with the square of its length; ``chunk_seconds``
    runs longer segments in consecutive chunks (each chunk sees only its own
    context) with exactly the frames the whole segment would give.
    ``device`` is where the network runs (``auto``: CUDA when present); it
    does not enter the cache key.  The checkpoint's size and modification
    time do, so a changed file is extracted afresh.
    """

    name = "ssl"
    summary = "wav2vec 2.0 / HuBERT / WavLM layers (torchaudio) from a local checkpoint"

    def __init__(self, architecture: Architecture, checkpoint: str, layer: Union[int, Literal["mean", "all"]] = "mean",
                 pool: bool = False, config: Optional[dict[str, Any]] = None, normalize_waveform: bool = False,
                 chunk_seconds: Optional[float] = None, device: str = "auto"):
        if architecture not in ARCHITECTURES:
            raise ValueError(unknown("architecture", architecture, ARCHITECTURES))
        if not (layer in ("mean", "all") or (isinstance(layer, int) and not isinstance(layer, bool) and layer >= 0)):
            raise ValueError(f"layer must be a layer number >= 0, 'mean' or 'all', got {layer!r}")
        if chunk_seconds is not None and not chunk_seconds > 0:
            raise ValueError(f"chunk_seconds must be > 0, got {chunk_seconds}")
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", str(device)):
            raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
        self.architecture, self.checkpoint, self.layer, self.pool = architecture, checkpoint, layer, pool
        self.config = dict(config or {})
        self.normalize_waveform, self.chunk_seconds = normalize_waveform, chunk_seconds
        self.level = "utterance" if pool else "frame"
        self._device = device
        self._path = os.path.abspath(os.path.expanduser(checkpoint))
        try:
            stat = os.stat(self._path)
        except OSError:
            raise ValueError(f"checkpoint {self._path} does not exist; give the path of a weights file on this "
                             f"machine: {CONVERT}") from None
        self._stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        self._describe_network()  # checks config and layer before any audio is read
        self._model = None

    # ------------------------------------------------------------- the network
    def _build(self, device: Any = "cpu"):
        import torch
        import torchaudio.models

        builder = getattr(torchaudio.models, self.architecture)
        accepted = inspect.signature(builder).parameters
        extra = [k for k in self.config if k not in accepted]
        if extra:
            raise ValueError(unknown(f"config key of {self.architecture}", extra[0], accepted))
        missing = [k for k, p in accepted.items() if p.default is p.empty and k not in self.config]
        if missing:
            raise ValueError(f"config of {self.architecture} lacks {', '.join(missing)}; the generic builders need "
                             f"every argument of torchaudio.models.{self.architecture}")
        with torch.device(device):
            return builder(**self.config)

    def _describe_network(self) -> None:
        """Layers, width and CNN geometry, from the network built without weights (meta device)."""
        try:
            model = self._build("meta")
        except (TypeError, RuntimeError) as exc:
            raise ValueError(f"cannot build {self.architecture} from config {self.config}: "
                             f"{_first_line(exc)}") from None
        convs = [layer.conv for layer in model.feature_extractor.conv_layers]
        self._n_layers = len(model.encoder.transformer.layers)
        self._dim = model.encoder.feature_projection.projection.out_features
        self._stride, self._receptive = 1, 1
        for conv in convs:  # receptive field and hop of the CNN, in samples
            self._receptive += (conv.kernel_size[0] - 1) * self._stride
            self._stride *= conv.stride[0]
        if isinstance(self.layer, int) and self.layer > self._n_layers:
            raise ValueError(f"layer {self.layer} does not exist: {self.architecture} has transformer layers "
                             f"1..{self._n_layers} (0 is their input)")

    @property
    def dim(self) -> int:
        """Width of one output row."""
        return self._dim * (self._n_layers + 1 if self.layer == "all" else 1)

    @property
    def n_layers(self) -> int:
        """Transformer layers of the network (outputs ``mean`` and ``all`` have one more: layer 0)."""
        return self._n_layers

    def _device_name(self) -> str:
        import torch

        if self._device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if self._device.startswith("cuda") and not torch.cuda.is_available():
            raise SertkError(f"ssl: device {self._device!r} asked for, but torch sees no GPU here; "
                             f"use device: auto or cpu")
        return self._device

    def _load(self):
        """The network with the checkpoint's weights, in evaluation mode on its device (built once per process)."""
        if self._model is not None:
            return self._model
        import torch

        path = self._path
        if not os.path.isfile(path):
            raise SertkError(f"ssl checkpoint {path} does not exist (any more); {CONVERT}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a pickle with code, a fairseq checkpoint with its config, not a torch file
            code = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
            why = (f"it holds Python objects besides tensors ({code.group(1)}), which weights_only=True refuses"
                   if code else f"{type(exc).__name__}: {_first_line(exc)[:160]}" if zipfile.is_zipfile(path)
                   else "it is not a file written by torch.save")
            raise SertkError(f"ssl checkpoint {path} cannot be loaded with torch.load(weights_only=True): {why}; "
                             f"{CONVERT}") from None
        state = _state_dict(state, path)
        device = self._device_name()
        model = self._build(device)
        if getattr(model, "aux", None) is None:
            state = {k: v for k, v in state.items() if not k.startswith("aux.")}
        try:
            missing, unexpected = model.load_state_dict(state, strict=False)
        except RuntimeError as exc:
            sizes = re.findall(r"size mismatch for ([^:]+): copying a param with shape torch.Size\((\[[^\]]*\])\) "
                               r"from checkpoint, the shape in current model is torch.Size\((\[[^\]]*\])\)", str(exc))
            shown = "; ".join(f"{k} {a} in the file, {b} in the model" for k, a, b in sizes[:3]) or _first_line(exc)
            raise SertkError(f"ssl checkpoint {path} does not fit architecture {self.architecture}: {shown}; "
                             f"choose the architecture the weights were trained with") from None
        if missing or unexpected:
            raise SertkError(f"ssl checkpoint {path} does not fit architecture {self.architecture}: "
                             f"{len(missing)} keys missing {_few(missing)}, {len(unexpected)} unexpected "
                             f"{_few(unexpected)}; choose the matching architecture, or {CONVERT}")
        model.eval().requires_grad_(False)
        self._model = model
        return model

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_model"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _model=None)

    # ------------------------------------------------------------- extraction
    def __call__(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        import torch

        model = self._load()
        device = next(model.parameters()).device
        with torch.inference_mode():
            x = torch.tensor(np.asarray(signal, dtype=np.float32)).reshape(1, -1)
            if sample_rate != SAMPLE_RATE:
                import torchaudio.functional

                x = torchaudio.functional.resample(x, int(sample_rate), SAMPLE_RATE)
            if x.shape[1] < self._receptive:  # shorter than one frame: zero-pad to one
                x = torch.nn.functional.pad(x, (0, self._receptive - x.shape[1]))
            x = x.to(device)
            if self.normalize_waveform:
                x = torch.nn.functional.layer_norm(x, x.shape)
            pieces = [self._layers(model, x[:, start:end]) for start, end in self._chunks(x.shape[1])]
            layers = [torch.cat([p[i] for p in pieces]) for i in range(len(pieces[0]))]
            if self.layer == "mean":
                out = torch.stack(layers).mean(0)
            elif self.layer == "all":
                out = torch.cat(layers, dim=1)
            else:
                out = layers[0]
            if self.pool:
                out = out.mean(0)
            return out.float().cpu().numpy()

    def _layers(self, model, x) -> list:
        """The requested layers of one piece of signal, each (frames, dim): one layer, or layers 0..L."""
        wanted = [self.layer] if isinstance(self.layer, int) else list(range(self._n_layers + 1))
        inputs = []
        hook = None
        if 0 in wanted:  # layer 0: what enters the first transformer layer
            hook = model.encoder.transformer.layers[0].register_forward_pre_hook(lambda m, args: inputs.append(args[0]))
        try:
            outputs, _ = model.extract_features(x, num_layers=max(max(wanted), 1))
        finally:
            if hook is not None:
                hook.remove()
        layers = [*inputs[:1], *outputs] if 0 in wanted else [None, *outputs]
        return [layers[k][0] for k in wanted]

    def _chunks(self, n: int) -> list[tuple[int, int]]:
        """Sample ranges to run separately: the whole signal, or pieces of ``chunk_seconds`` whose frames
        are exactly the whole signal's frames (each piece spans its frames' receptive fields)."""
        if self.chunk_seconds is None:
            return [(0, n)]
        frames = (n - self._receptive) // self._stride + 1
        per_chunk = max(1, int(self.chunk_seconds * SAMPLE_RATE) // self._stride)
        return [(f * self._stride,
                 n if f + per_chunk >= frames else (f + per_chunk - 1) * self._stride + self._receptive)
                for f in range(0, frames, per_chunk)]

    def frame_rate(self, sample_rate: int) -> Optional[float]:
        return None if self.pool else SAMPLE_RATE / self._stride

    def cache_params(self) -> dict[str, Any]:
        """The recipe params plus the checkpoint file's size and modification time (not the device)."""
        return {**super().cache_params(), "checkpoint_file": dict(self._stamp)}


def _state_dict(state: Any, path: str) -> dict[str, Any]:
    """The state dict inside a loaded checkpoint: plain, or under ``state_dict`` / ``model``; ``module.`` stripped."""
    import torch

    if isinstance(state, dict):
        for key in ("state_dict", "model"):
            if isinstance(state.get(key), dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        what = f"a dict with keys {_few(list(state))}" if isinstance(state, dict) else type(state).__name__
        raise SertkError(f"ssl checkpoint {path} holds no state dict of tensors (it holds {what}); {CONVERT}")
    if all(k.startswith("module.") for k in state):  # saved from DataParallel
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _few(keys, n: int = 3) -> str:
    keys = list(keys)
    return "[" + ", ".join(map(str, keys[:n])) + (", ..." if len(keys) > n else "") + "]"


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
