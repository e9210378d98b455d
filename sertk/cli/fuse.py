"""``sertk fuse``: late fusion of finished runs into a new run folder."""
from __future__ import annotations

import click

from ..errors import SertkError
from . import _load, main, user_errors


def _weights(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(w) for w in text.split(",")]
    except ValueError:
        raise SertkError(f"--weights {text}: expected numbers separated by commas, e.g. 0.7,0.3") from None


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--method", type=click.Choice(["mean", "weighted", "stack"]), default="mean", show_default=True,
              help="mean: average posteriors; weighted: --weights, or weights chosen on the training folds; "
                   "stack: a classifier trained on the other folds' predictions.")
@click.option("--weights", default=None, metavar="W,W,...", help="One weight per run (method weighted).")
@click.option("--out", "out_dir", default="runs", show_default=True, help="Parent folder of the fused run.")
@click.option("--name", default=None, help="Folder name of the fused run (default fusion-<method>-<time>).")
@user_errors
def fuse(runs, method, weights, out_dir, name):
    """Fuse the test scores of finished RUNS (same corpus, protocol and folds) fold by fold."""
    from ..engine.fusion_run import fuse_runs
    from ..terminal import out, results_table

    parsed = _weights(weights)
    if parsed is not None and method != "weighted":
        raise SertkError(f"--weights apply to --method weighted, not {method}")
    loaded, registry = _load()
    result = fuse_runs(runs, method, registry, parsed, out_dir, name, loaded.plugins)
    out.print(results_table(result.metrics))
    out.print(f"results in {result.dir}")
