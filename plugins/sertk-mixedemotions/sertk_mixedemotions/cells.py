"""What the recurrent cells track: the cell/gate analysis of MixedEmotions D4.2 §5.4 (Figure 6.2;
Trigeorgis et al., ICASSP 2016, §4): over a recording the model never trained on, every LSTM
cell's output, cell state and gates are correlated with prosodic descriptors over the same
frames — the range of the RMS energy, the loudness and the mean F0 (the report finds cells
at ρ = 0.81, 0.73 and 0.72).

The LSTM layers are found in any model (every ``torch.nn.LSTM`` module: those of
``e2e_crnn``, ``lstm_drnn``, the built-in ``blstm`` …); a forward hook records each one's
input, and the layer is replayed step by step from its weights to expose what
``torch.nn.LSTM`` does not return: the cell state c and the input, forget and output gates
i, f, o and the cell input g, per frame (the replay reproduces the module's outputs h).
Descriptors come from openSMILE's 10-ms low-level descriptors (ComParE_2016
``pcm_RMSenergy_sma`` and ``F0final_sma``, eGeMAPSv02 ``Loudness_sma3``), summarised over a window
around each LSTM frame: max − min of the RMS energy, mean loudness, mean F0 over the voiced
LLD frames (frames without voiced LLD frames are left out of the F0 correlation).  LSTM
frame k of n valid frames of a segment sits at (k + ½)/n of the segment's audio.
"""
from __future__ import annotations

import math
from typing import Any, Literal, Optional, Union

import numpy as np

from sertk import Analyzer, SertkError, load_audio, pyplot, safe_name, save_figure, write_csv

from .tracks import pick_fold, segment_index

QUANTITIES = ("h", "c", "i", "f", "g", "o")
DESCRIPTORS = {"rms_energy_range": "range of RMS energy", "loudness": "loudness", "f0_mean": "mean F0"}
LLD_COLUMNS = {"ComParE_2016": {"rms": "pcm_RMSenergy_sma", "f0": "F0final_sma"},
               "eGeMAPSv02": {"loudness": "Loudness_sma3"}}
PAPER = {"figure": "D4.2 Figure 6.2 (Trigeorgis et al. 2016, Fig. 3)",
         "rho": {"rms_energy_range": 0.81, "loudness": 0.73, "f0_mean": 0.72}}


# ----------------------------------------------------------------- LSTM replay
def lstm_trace(lstm, x) -> list[dict[str, Any]]:
    """Replay ``lstm`` (a ``torch.nn.LSTM``) on one unpadded sequence ``x`` (T, D) in float64.

    Returns one entry per layer and direction: ``{"layer", "direction", "h", "c", "i",
    "f", "g", "o"}`` with (T, hidden) arrays in time order.  Dropout between layers is
    left out (the model is analysed in evaluation mode).
    """
    import torch

    if getattr(lstm, "proj_size", 0):
        raise SertkError("cell analysis does not support LSTMs with projections (proj_size > 0)")
    inp = x.detach().double()
    if lstm.batch_first and inp.ndim == 3:
        inp = inp[0]
    out = []
    directions = 2 if lstm.bidirectional else 1
    for layer in range(lstm.num_layers):
        outputs = []
        for d in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            w_ih = getattr(lstm, f"weight_ih{suffix}").detach().double()
            w_hh = getattr(lstm, f"weight_hh{suffix}").detach().double()
            bias = (getattr(lstm, f"bias_ih{suffix}").detach().double() + getattr(lstm, f"bias_hh{suffix}").detach()
                    .double()) if lstm.bias else torch.zeros(w_ih.shape[0], dtype=torch.float64)
            seq = inp.flip(0) if d else inp
            pre = seq @ w_ih.T + bias
            h = torch.zeros(lstm.hidden_size, dtype=torch.float64)
            c = torch.zeros_like(h)
            rows = {k: [] for k in QUANTITIES}
            for t in range(len(seq)):
                i, f, g, o = (pre[t] + w_hh @ h).chunk(4)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                for k, v in zip(QUANTITIES, (h, c, i, f, g, o)):
                    rows[k].append(v)
            arrays = {k: torch.stack(v) if v else torch.zeros(0, lstm.hidden_size, dtype=torch.float64)
                      for k, v in rows.items()}
            if d:
                arrays = {k: v.flip(0) for k, v in arrays.items()}
            outputs.append(arrays["h"])
            out.append({"layer": layer, "direction": "backward" if d else "forward",
                        **{k: v.numpy() for k, v in arrays.items()}})
        inp = torch.cat(outputs, dim=-1)
    return out


class LSTMRecorder:
    """Forward hooks that keep the input of every ``torch.nn.LSTM`` of a model, unpadded per row."""

    def __init__(self, model) -> None:
        import torch

        self.lstms = {name: m for name, m in model.named_modules() if isinstance(m, torch.nn.LSTM)}
        self.inputs: dict[str, list] = {}
        self._hooks = [m.register_forward_hook(self._hook(name)) for name, m in self.lstms.items()]

    def _hook(self, name: str):
        def keep(module, args, output) -> None:
            from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

            x = args[0]
            if isinstance(x, PackedSequence):
                padded, lengths = pad_packed_sequence(x, batch_first=True)
                rows = [padded[b, :int(n)] for b, n in enumerate(lengths)]
            else:
                padded = x if module.batch_first else x.transpose(0, 1)
                rows = list(padded)
            self.inputs[name] = [r.detach().cpu() for r in rows]
        return keep

    def close(self) -> None:
        for hook in self._hooks:
            hook.remove()


# ----------------------------------------------------------------- prosodic descriptors
def prosody(signal: np.ndarray, sample_rate: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per descriptor LLD: (frame centres in seconds, values), from openSMILE's 10-ms LLDs:
    ``rms`` (ComParE_2016 ``pcm_RMSenergy_sma``), ``f0`` (ComParE_2016 ``F0final_sma``, 0 when
    unvoiced) and ``loudness`` (eGeMAPSv02 ``Loudness_sma3``; ComParE_2016 has no loudness LLD)."""
    import opensmile

    signal = np.asarray(signal, dtype=np.float32)
    out = {}
    for feature_set, columns in LLD_COLUMNS.items():
        smile = opensmile.Smile(opensmile.FeatureSet[feature_set], opensmile.FeatureLevel.LowLevelDescriptors)
        table = smile.process_signal(signal, sample_rate)
        centres = np.array([(a + b).total_seconds() / 2 for a, b in table.index])
        for key, column in columns.items():
            out[key] = (centres, table[column].to_numpy(dtype=np.float64))
    return out


def frame_descriptors(llds: dict[str, tuple[np.ndarray, np.ndarray]], times: np.ndarray, window_s: float
                      ) -> dict[str, np.ndarray]:
    """Per LSTM frame time: max − min RMS energy, mean loudness and mean voiced F0 over the LLD
    frames centred within [t − ``window_s``/2, t + ``window_s``/2) (the nearest LLD frame when
    none falls inside)."""
    def rows(key: str, t: float) -> np.ndarray:
        centres, values = llds[key]
        a, b = np.searchsorted(centres, [t - window_s / 2, t + window_s / 2])
        if b <= a:
            a = int(np.clip(np.searchsorted(centres, t), 0, len(centres) - 1))
            b = a + 1
        return values[a:b]

    out = {k: np.full(len(times), np.nan) for k in DESCRIPTORS}
    for j, t in enumerate(times):
        rms = rows("rms", t)
        out["rms_energy_range"][j] = rms.max() - rms.min()
        out["loudness"][j] = rows("loudness", t).mean()
        f0 = rows("f0", t)
        if (f0 > 0).any():
            out["f0_mean"][j] = f0[f0 > 0].mean()
    return out


def correlations(units: np.ndarray, descriptor: np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``units`` (N, U) with ``descriptor`` (N,) over its finite
    frames; nan where a unit or the descriptor is constant."""
    keep = np.isfinite(descriptor)
    x, y = units[keep], descriptor[keep]
    if len(y) < 3:
        return np.full(units.shape[1], np.nan)
    dx, dy = x - x.mean(0), y - y.mean()
    denom = np.sqrt((dx ** 2).sum(0) * (dy ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (dx * dy[:, None]).sum(0) / np.where(denom > 0, denom, 1), np.nan)


def _zscore(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return (v - np.nanmean(v)) / (np.nanstd(v) or 1.0)


# ----------------------------------------------------------------- the analyzer
class CellCorrelation(Analyzer):
    """Correlation of every LSTM cell's output, cell state and gates with prosodic descriptors
    (range of RMS energy, loudness, mean F0) over held-out recordings, with the best cells
    plotted against them (MixedEmotions D4.2 §5.4, Figure 6.2; Trigeorgis et al. 2016).

    ``part`` (default ``test``) and ``fold`` pick the held-out recordings; ``utterance``
    names one (default: the first of the part), ``recordings`` how many to pool;
    ``quantities`` the per-cell series (h output, c state, i/f/o gates, g cell input);
    ``window_s`` the descriptor window around each LSTM frame (default: the frame period,
    at least 30 ms).  Writes ``cells.csv`` (every series and descriptor), ``top.csv``
    (the ``top`` most correlated per descriptor) and ``cells_<recording>.png``.
    """

    name = "cell_correlation"
    summary = "LSTM cells and gates correlated with RMS-energy range, loudness, mean F0 (MixedEmotions D4.2 §5.4)"

    def __init__(self, fold: Optional[Union[str, int]] = None, part: Literal["train", "validation", "test"] = "test",
                 utterance: Optional[Union[str, int]] = None, recordings: int = 1,
                 quantities: list[str] = list(QUANTITIES), window_s: Optional[float] = None, top: int = 5):
        bad = [q for q in quantities if q not in QUANTITIES]
        if bad or not quantities:
            raise ValueError(f"quantities must be among {', '.join(QUANTITIES)}, got {quantities}")
        if part not in ("train", "validation", "test"):
            raise ValueError(f"part must be one of train, validation, test, got {part!r}")
        if recordings < 1 or top < 1 or (window_s is not None and window_s <= 0):
            raise ValueError("recordings and top must be >= 1, window_s > 0")
        self.fold, self.part, self.recordings, self.top = fold, part, recordings, top
        self.utterance = None if utterance is None else str(utterance)
        self.quantities, self.window_s = list(quantities), window_s

    def analyze(self, run) -> dict[str, Any]:
        import torch

        fold = pick_fold(run, self.fold, self.name)
        model = run.network(fold, self.name)
        recorder = LSTMRecorder(model)
        if not recorder.lstms:
            recorder.close()
            raise SertkError(f"{self.name}: the model of {run.dir} ({type(model).__name__}) has no LSTM layer")
        index = segment_index(run)
        series: dict[tuple, list[np.ndarray]] = {}
        descriptors: dict[str, list[np.ndarray]] = {k: [] for k in DESCRIPTORS}
        times_of: dict[str, list[np.ndarray]] = {}
        chosen: list[str] = []
        signals: dict[str, tuple] = {}
        try:
            for batch in run.batches(fold, self.part, 1):
                seg, utt = index[batch.ids[0]]
                if utt.id not in chosen:  # a recording's segments come one after another
                    if self.utterance is not None and utt.id != self.utterance:
                        if chosen:
                            break
                        continue
                    if len(chosen) == self.recordings:
                        break
                    chosen.append(utt.id)
                with torch.no_grad():
                    model(batch.inputs, batch.lengths)
                if utt.id not in signals:
                    signal, rate = (np.asarray(utt.audio, np.float32), int(utt.sample_rate)) if utt.audio is not None \
                        else load_audio(utt.path, run.sample_rate)
                    signals[utt.id] = prosody(signal, rate)
                span = seg.end_s - seg.start_s
                for name, lstm in recorder.lstms.items():
                    x = recorder.inputs.get(name)
                    if not x:
                        continue
                    for trace in lstm_trace(lstm, x[0]):
                        n = len(trace["h"])
                        for q in self.quantities:
                            key = (name, trace["layer"], trace["direction"], q)
                            series.setdefault(key, []).append(trace[q])
                        key_t = f"{name}/{trace['layer']}"
                        if trace["direction"] == "forward":
                            times = seg.start_s + (np.arange(n) + 0.5) * span / max(n, 1)
                            times_of.setdefault(key_t, []).append(times)
                            if name == next(iter(recorder.lstms)) and trace["layer"] == 0:
                                window = self.window_s or max(span / max(n, 1), 0.03)
                                for k, v in frame_descriptors(signals[utt.id], times, window).items():
                                    descriptors[k].append(v)
        finally:
            recorder.close()
        if not chosen:
            where = f"utterance '{self.utterance}' is not among" if self.utterance else "there are no"
            raise SertkError(f"{self.name}: {where} the {self.part} recordings of fold '{fold}' of {run.dir}")
        if not series:
            raise SertkError(f"{self.name}: no LSTM of {run.dir} ran on the {self.part} recordings")
        return self._report(run, fold, chosen, series, {k: np.concatenate(v) for k, v in descriptors.items()})

    def _report(self, run, fold: str, chosen: list[str], series: dict[tuple, list[np.ndarray]],
                descriptors: dict[str, np.ndarray]) -> dict[str, Any]:
        out = run.analysis_dir(self.name)
        n_frames = len(next(iter(descriptors.values())))
        rows = []
        for (module, layer, direction, q), parts in series.items():
            units = np.concatenate(parts)
            if len(units) != n_frames:  # an LSTM at another frame rate than the first: not comparable frame by frame
                continue
            for d, values in descriptors.items():
                for u, r in enumerate(correlations(units, values)):
                    rows.append({"module": module, "layer": layer, "direction": direction, "quantity": q, "unit": u,
                                 "descriptor": d, "r": float(r), "frames": int(np.isfinite(values).sum())})
        if not rows:
            raise SertkError(f"{self.name}: no LSTM output could be matched to the descriptor frames")
        write_csv(out / "cells.csv", rows)
        top, best = [], {}
        for d in DESCRIPTORS:
            ranked = sorted((r for r in rows if r["descriptor"] == d and not math.isnan(r["r"])),
                            key=lambda r: -abs(r["r"]))
            top += [{"descriptor": d, "rank": k + 1, **{c: r[c] for c in ("module", "layer", "direction", "quantity",
                                                                          "unit", "r")}}
                    for k, r in enumerate(ranked[:self.top])]
            if ranked:
                best[d] = {c: ranked[0][c] for c in ("module", "layer", "direction", "quantity", "unit", "r", "frames")}
        write_csv(out / "top.csv", top)
        plot = f"cells_{safe_name(chosen[0])}.png"
        self._plot(out / plot, chosen, series, descriptors, best, n_frames)
        return {"fold": fold, "part": self.part, "recordings": chosen, "frames": n_frames, "best": best,
                "top": top, "plots": [plot], "paper": PAPER}

    @staticmethod
    def _plot(path, chosen, series, descriptors, best, n_frames) -> None:
        """Figure 6.2's layout: per descriptor, the descriptor and its best cell over the frames
        (z-scored; the cell sign-flipped when it correlates negatively)."""
        plt = pyplot()
        fig, axes = plt.subplots(len(DESCRIPTORS), 1, figsize=(10, 2.4 * len(DESCRIPTORS)), squeeze=False)
        frames = np.arange(n_frames)
        for ax, d in zip(axes[:, 0], DESCRIPTORS):
            ax.plot(frames, _zscore(descriptors[d]), color="black", lw=1.0, label=DESCRIPTORS[d])
            if d in best:
                b = best[d]
                unit = np.concatenate(series[(b["module"], b["layer"], b["direction"], b["quantity"])])[:, b["unit"]]
                sign = 1 if b["r"] >= 0 else -1
                ax.plot(frames, sign * _zscore(unit), color="tab:red", lw=1.0,
                        label=f"{'' if sign > 0 else '−'}{b['module']} layer {b['layer']} {b['direction']} "
                              f"{b['quantity']}[{b['unit']}] (ρ = {b['r']:.2f})")
            ax.set_ylabel("z-score")
            ax.legend(fontsize=8, loc="upper right")
        axes[-1, 0].set_xlabel(f"LSTM frame ({', '.join(chosen)})")
        fig.suptitle("LSTM cells most correlated with prosodic descriptors (cf. D4.2 Fig. 6.2)", fontsize=10)
        fig.tight_layout()
        save_figure(fig, path)
