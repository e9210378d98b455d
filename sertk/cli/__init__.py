"""The ``sertk`` command line: run, validate, list, show, corpus info, analyze, tune, compare (and the
submodules' commands, e.g. export and predict)."""
from __future__ import annotations

import functools
import os
import sys
from typing import Optional

import click

from ..errors import SertkError
from ..registry import KINDS, SINGULAR

EXIT_USER_ERROR = 2

# torch's OpenMP threads sleep rather than spin while they wait (read when torch loads, which
# the commands do lazily): spinning made 2 threads ~6x slower than 1 on a busy 2-core CPU.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def console() -> None:
    """The ``sertk`` executable: :func:`main` with freed memory kept for reuse
    (:func:`~sertk.cli.heap.keep_freed_memory`), ended without the interpreter's teardown.

    When a command exits, every result is written and closed; the exit handlers run and
    the standard streams are flushed, then the process ends at once: tearing down the
    modules and objects of a warm run took about 0.25 s.  An unexpected error ends the
    usual way, with its traceback, and so does every exit under a profiler or tracer
    (``python -m cProfile -m sertk.cli``, coverage), which write their results at the end."""
    import atexit

    from .heap import keep_freed_memory

    keep_freed_memory()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        main()
        return
    try:
        main()
        status = 0
    except SystemExit as exc:
        status = _exit_status(exc.code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream
            pass
    os._exit(status)


def _exit_status(code) -> int:
    """The status of ``sys.exit(code)``: None is 0, an integer itself, anything else is
    printed and gives 1."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USER_ERROR)


def user_errors(fn):
    """Report user errors as one line with exit status 2, interruptions with 130."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SertkError as exc:
            _fail(str(exc))
        except OSError as exc:  # a full disk, a folder that is a file, no permission
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}; free space or choose another path")
        except KeyboardInterrupt:
            click.echo("interrupted; finished results and caches are intact", err=True)
            sys.exit(130)
    return wrapper


def _load(entry_points: bool = True):
    from ..plugins import load_plugins
    from ..registry import Registry

    loaded = load_plugins(entry_points=entry_points)
    for p in loaded.failures:
        click.echo(f"warning: plugin '{p.name}' ({p.distribution}) failed to load and is skipped: {p.error}", err=True)
    return loaded, Registry.from_plugins(loaded)


def _params(pairs: tuple[str, ...]) -> dict:
    import yaml

    from ..safe_yaml import load_yaml

    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise SertkError(f"--param {pair}: expected KEY=VALUE")
        key, value = pair.split("=", 1)
        try:
            out[key] = load_yaml(value, f"--param {key}")
        except yaml.YAMLError:
            out[key] = value
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sertk")
def main():
    """Speech emotion recognition experiments from YAML recipes."""


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a recipe value, e.g. train.epochs=3.")
@click.option("--out", "out_dir", default=None, help="Parent folder of the run directory (default: output.dir).")
@click.option("--jobs", type=click.IntRange(1), default=None,
              help="Folds trained at once, one process each (sets train.jobs).")
@user_errors
def run(recipe, overrides, out_dir, jobs):
    """Run RECIPE: extract features, train and evaluate every fold, write reports.

    Started by torchrun, networks train data-parallel; rank 0 reports (docs/distributed.md)."""
    from ..engine.parallel import drawing_process

    with drawing_process() as drawing:  # imports matplotlib for the figures while the run starts
        from ..engine import distributed
        from ..engine.run import run_recipe
        from ..progress import Silent
        from ..recipe import load_recipe
        from ..terminal import RichProgress, out, results_table

        loaded, registry = _load()
        parsed = load_recipe(recipe, [*overrides, *([f"train.jobs={jobs}"] if jobs else [])], registry)
        main_rank = distributed.is_main()
        result = run_recipe(parsed, registry, loaded.plugins, RichProgress() if main_rank else Silent(), out_dir,
                            drawing)
    distributed.close()
    if main_rank:
        out.print(results_table(result.metrics))
        out.print(f"results in {result.dir}")


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE")
@user_errors
def validate(recipe, overrides):
    """Check RECIPE (sections, component names, params, types) without running it; when
    its corpus is at hand, also build every component on the first recording's features."""
    from ..engine.experiment import load_utterances
    from ..engine.preflight import preflight
    from ..recipe import load_recipe

    _, registry = _load()
    parsed = load_recipe(recipe, overrides, registry)
    try:
        utterances = load_utterances(parsed, registry)
    except SertkError as why:
        click.echo(f"{recipe}: ok (settings and names; components not built: {why})")
        return
    for _, system in parsed.members or [("", parsed)]:  # a fusion recipe: each of its systems
        preflight(system, registry, utterances)
    click.echo(f"{recipe}: ok")


@main.command(name="list")
@click.argument("kind", required=False, type=click.Choice(KINDS))
@click.option("--plugins", "show_plugins", is_flag=True, help="List plugins and their versions instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per row) instead of a table.")
@user_errors
def list_(kind, show_plugins, as_json):
    """List registered components (of one KIND) with their plugin and summary."""
    from ..terminal import components_table, out

    loaded, registry = _load()
    if show_plugins:
        columns = ("plugin", "distribution", "version", "status")
        rows = [(p.name, p.distribution, p.version, "failed: " + p.error if p.error else "ok") for p in loaded.plugins]
        title = "Plugins"
    else:
        columns = ("kind", "name", "plugin", "version", "summary")
        rows = [(SINGULAR[e.kind], e.name, e.plugin, loaded.info(e.plugin).version, e.summary)
                for e in registry.entries(kind)]
        title = "Components"
    if as_json:
        import json

        click.echo(json.dumps([dict(zip(columns, row)) for row in rows], indent=1))
        return
    out.print(components_table(rows, columns, title))


@main.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("name")
@user_errors
def show(kind, name):
    """Show a component's parameters, defaults and documentation."""
    from ..terminal import components_table, out

    _, registry = _load()
    entry = registry.entry(kind, name, "name")
    out.print(f"[bold]{SINGULAR[kind]} {entry.name}[/bold]  (plugin {entry.plugin}, {entry.target})")
    out.print(entry.doc)
    rows = [(p.name, _annotation(p.annotation), "required" if p.required else repr(p.default))
            for p in entry.params()]
    if rows:
        out.print(components_table(rows, ("param", "type", "default"), "Parameters"))
    else:
        out.print("no parameters")


def _annotation(ann) -> str:
    import inspect

    if ann is inspect.Parameter.empty:
        return ""
    return getattr(ann, "__name__", None) or str(ann).replace("typing.", "")


@main.group()
def corpus():
    """Inspect corpora."""


@corpus.command()
@click.argument("name")
@click.option("--root", default=None, help="The corpus folder (its root param).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="Another corpus param.")
@click.option("--check-audio", is_flag=True, help="Decode every recording and report those a run would skip.")
@user_errors
def info(name, root, params, check_audio):
    """Counts of utterances, speakers, classes and partitions, and total duration."""
    from ..corpora.info import audio_problems, corpus_summary
    from ..terminal import RichProgress, out

    _, registry = _load()
    spec = {"name": name, "params": {**({"root": root} if root else {}), **_params(params)}}
    built = registry.build("corpora", spec, "corpus")
    utterances = built.utterances()
    summary = corpus_summary(utterances)  # reads every timing file, so the report below includes their problems
    if getattr(built, "report", ""):
        click.echo(built.report, err=True)
    _print_summary(out, name, summary)
    if check_audio:
        lines = audio_problems(utterances, RichProgress())
        out.print("\n".join(lines) if lines else "every recording decodes to usable audio")


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def _print_summary(console, name: str, summary: dict) -> None:
    from ..terminal import components_table

    console.print(f"[bold]{name}[/bold]: {summary['utterances']} utterances, {summary['speakers']} speakers, "
                  f"{summary['classes']} classes, {_duration(summary['duration_s'])}")
    timed = ([f"{summary['word_timed']} with word timings"] if summary.get("word_timed") else []) + \
        [f"{n} with {tier}" for tier, n in summary.get("tiers", {}).items()]
    if timed:
        console.print("timings: " + ", ".join(timed))
    for title in ("per_class", "per_speaker", "per_partition"):
        counts = summary.get(title) or {}
        if counts:
            rows = [(str(k), str(v)) for k, v in counts.items()]
            console.print(components_table(rows, (title.split("_")[1], "utterances"), title.replace("_", " ")))


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("analyzer")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE")
@user_errors
def analyze(run_dir, analyzer, params):
    """Run ANALYZER on a finished run; its outputs go to RUN_DIR/analysis/ANALYZER."""
    from ..engine.trained import TrainedRun
    from ..terminal import RichProgress, out

    _, registry = _load()
    trained = TrainedRun(run_dir, registry, RichProgress())
    summary = trained.analyze({"name": analyzer, "params": _params(params)}, "analyzer")
    for key, value in summary.items():
        if not isinstance(value, (dict, list)):
            out.print(f"{key}: {value}")
    out.print(f"results in {trained.analysis_dir(analyzer)}")


@main.command()
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--trials", type=int, default=None, help="Number of trials (default: tune.trials).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE")
@click.option("--out", "out_dir", default=None, help="Tuning folder (default: output.dir/<recipe>-tune).")
@click.option("--engine", type=click.Choice(["sequential", "ray"]), default="sequential", show_default=True,
              help="sequential: one trial after another, resumable; ray: parallel trials on Ray Tune with ASHA.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="--engine ray: trials at a time (CPUs of the local Ray).")
@click.option("--address", default=None, metavar="ray://HOST:PORT", help="--engine ray: a running Ray cluster.")
@click.option("--grace", type=click.IntRange(min=1), default=1, show_default=True,
              help="--engine ray: epochs before ASHA may stop a trial.")
@click.option("--eta", type=click.IntRange(min=2), default=3, show_default=True,
              help="--engine ray: ASHA's reduction factor (keeps the best 1/eta at each rung).")
@click.option("--gpus-per-trial", type=click.FloatRange(min=0), default=0.0, help="--engine ray: GPUs per trial.")
@user_errors
def tune(recipe, trials, overrides, out_dir, engine, workers, address, grace, eta, gpus_per_trial):
    """Search the recipe's ``tune.space`` with hyperopt TPE; writes the best recipe.

    Sequential searches resume where they stopped; --engine ray runs trials in parallel (docs/distributed.md)."""
    from ..recipe import load_recipe
    from ..terminal import RichProgress, out

    loaded, registry = _load()
    parsed = load_recipe(recipe, overrides, registry)
    if engine == "ray":
        from ..engine.tune_ray import tune_recipe_ray

        result = tune_recipe_ray(parsed, registry, loaded.plugins, RichProgress(), trials=trials, out_dir=out_dir,
                                 workers=workers, address=address, grace=grace, eta=eta, gpus_per_trial=gpus_per_trial)
    else:
        from ..engine.tune import tune_recipe

        result = tune_recipe(parsed, registry, loaded.plugins, RichProgress(), trials=trials, out_dir=out_dir)
    out.print(f"best {result.metric} {result.best_score:.4f} after {result.n_trials} trials: {result.best_params}")
    out.print(f"best recipe: {result.best_recipe}")


@main.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False),
              help="Also write the table as CSV, and the paired tests as <stem>_significance.csv beside it.")
@click.option("--test", is_flag=True, help="Test every later run against the first (automatic for two runs).")
@click.option("--html", "html_file", default=None, type=click.Path(dir_okay=False),
              help="Also write one self-contained HTML report of the runs (figures embedded).")
@user_errors
def compare(run_dirs, out_file, test, html_file):
    """Finished runs side by side: pooled metrics (classification in percent); --out adds the 95% CIs.

    With two runs, or with --test, the per-fold scores of each later run are paired with
    the first run's by fold name and compared per head and metric: the mean difference
    (later − first; classification in percentage points) and a two-sided paired
    permutation p-value. Runs without common folds are an error with --test, and only a
    note otherwise. Each run's protocol is labelled speaker-independent or not, and
    transductive where it uses the test speakers' unlabelled audio.
    """
    from pathlib import Path

    from rich.table import Table

    from ..engine.compare import compare_runs, paired_significance, write_comparison_csv, write_significance_csv
    from ..terminal import comparison_table, out

    _, registry = _load()  # labels runs that did not record them, from their recipes
    metrics, rows = compare_runs(run_dirs, registry)
    out.print(comparison_table(metrics, rows))
    tests = []
    if test and len(run_dirs) < 2:
        raise SertkError("--test needs at least two runs to pair")
    if test or len(run_dirs) == 2:
        try:
            tests = [row for other in run_dirs[1:] for row in paired_significance(run_dirs[0], other)]
        except SertkError as exc:
            if test:
                raise
            out.print(f"no significance test: {exc}")
    if tests:
        table = Table(title="Paired permutation test over folds (difference: later − first run)")
        for col in ("run1", "run2", "head", "metric", "pairs", "mean difference", "p"):
            table.add_column(col, justify="right" if col in ("pairs", "mean difference", "p") else "left")
        for t in tests:
            scale, fmt = (100, "{:+.1f}") if t["kind"] == "classification" else (1, "{:+.3f}")
            table.add_row(t["run1"], t["run2"], t["head"], t["metric"], str(t["pairs"]), fmt.format(scale * t["mean_difference"]),
                          "" if t["p_value"] is None else f"{t['p_value']:.3g}")
        out.print(table)
    if out_file:
        write_comparison_csv(out_file, metrics, rows)
        out.print(f"written to {out_file}")
        if tests:
            significance_file = Path(out_file).with_name(f"{Path(out_file).stem}_significance.csv")
            write_significance_csv(significance_file, tests)
            out.print(f"written to {significance_file}")
    if html_file:
        from ..engine.report_html import write_comparison_report

        out.print(f"written to {write_comparison_report(html_file, run_dirs, registry, tests)}")


# each module below adds its commands to ``main``
from . import export_predict, fuse, new_plugin, report  # noqa: E402,F401
