"""``sertk export`` (model bundles) and ``sertk predict`` (new recordings, long ones in windows)."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import SertkError
from . import _load, main, user_errors

SHOWN_ROWS = 40


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Bundle folder (default: RUN_DIR/bundle); must not exist or be empty.")
@click.option("--format", "fmt", type=click.Choice(["native", "onnx", "torchscript"]), default="native",
              show_default=True, help="native: state dicts / arrays only; onnx / torchscript also write a graph "
                                      "per fold (networks only).")
@user_errors
def export(run_dir, out_dir, fmt):
    """Export a finished run's fold models as a self-describing bundle (weights, features with
    their params, label maps, normalisation statistics, versions and sha256 checksums)."""
    from ..engine.bundle import export_bundle
    from ..terminal import RichProgress, out

    _, registry = _load()
    folder = export_bundle(run_dir, out_dir, registry, fmt, RichProgress())
    out.print(f"bundle in {folder}")


@main.command()
@click.argument("models", metavar="BUNDLE|RUN_DIR", type=click.Path(file_okay=False))
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False),
              help="FILE.csv: tables (FILE.csv per file and head, FILE_windows.csv, FILE_contours.csv); "
                   "FILE.json: one document. Plots of windowed recordings go beside it.")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True,
              help="Segments (or windows) per model call.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None,
              help="Where networks run (default: the recipe's train.device).")
@click.option("--window", "window_s", type=click.FloatRange(min=0.1), default=None,
              help="Window length in seconds for recordings longer than it (default: the run's training "
                   "segment length for data.segment fixed/slices, else 10 s).")
@click.option("--hop", "hop_s", type=click.FloatRange(min=0.05), default=None,
              help="Window hop in seconds (default: half the window).")
@user_errors
def predict(models, inputs, out_file, batch_size, device, window_s, hop_s):
    """Predict emotions of INPUT (audio files, folders searched recursively, or CSV manifests
    with a 'path' column) with the fold models of a bundle or finished run, averaged over folds.
    Recordings longer than the window are predicted window by window (reading one window at a
    time), giving a time-continuous output per head and a plot."""
    from ..engine.bundle import open_models
    from ..engine.inputs import collect_inputs
    from ..engine.predict import predict_files
    from ..engine.predict_out import utterance_rows, write_predictions
    from ..terminal import RichProgress, components_table, out

    _, registry = _load()
    paths = collect_inputs(inputs)
    fold_models = open_models(models, registry, RichProgress())
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SertkError("--device cuda: CUDA is not available here; use --device cpu")
    outputs, window_s, hop_s = predict_files(fold_models, paths, window_s, hop_s, batch_size, device)
    if not outputs:
        raise SertkError("no recording could be predicted (see the lines above)")
    heads = [h for h in fold_models.heads if h.kind != "sequence"]
    score = fold_models.score_name
    rows = utterance_rows(outputs, heads, score)
    if rows:
        shown = [(r["file"], r["head"], r["prediction"], r[score]) for r in rows[:SHOWN_ROWS]]
        out.print(components_table(shown, ("file", "head", "prediction", score), "Predictions"))
        if len(rows) > SHOWN_ROWS:
            out.print(f"… {len(rows) - SHOWN_ROWS} more rows" + (" in the output file" if out_file else
                                                                  "; pass --out FILE.csv for all"))
    windowed = [o for o in outputs if o.starts is not None]
    for o in windowed:
        out.print(f"{o.path}: {len(o.starts)} windows of {window_s:g} s every {hop_s:g} s")
    if out_file:
        for path in write_predictions(Path(out_file), outputs, heads, score, window_s, hop_s):
            out.print(f"written to {path}")
    elif windowed or any(o.contours for o in outputs):
        out.print("pass --out FILE.csv or FILE.json for the time-continuous output and its plots")
