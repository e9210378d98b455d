"""report.html: one self-contained page per finished run, or one for several runs.

Inline CSS, figures embedded as base64 PNG, no script and nothing fetched from a
network: the page can be mailed or archived as one file.  A run's page holds the
protocol box (speaker-independent or not, and what is transductive), the results table
(pooled metrics with 95% CIs and the baselines), per-fold scores, the confusion
matrices, per-fold figures and learning curves, the analyzers' plots and summaries, the
resolved recipe and the provenance.
"""
from __future__ import annotations

import base64
import datetime
import html
import io
from pathlib import Path
from typing import Any, Optional, Sequence

from ..atomic import PathLike, write_text
from ..errors import SertkError
from ..recipe import read_yaml
from ..registry import Registry
from .layout import RunLayout
from .protocol_labels import label_line, recorded_labels, short_label

MAX_PANELS = 24  # learning-curve panels (folds × repeats) drawn
MAX_ANALYSIS_IMAGES = 12  # PNGs embedded per analyzer

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;
  padding:0 1em;color:#222;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f0f3f7}
td.l,th.l{text-align:left}
.box{border-left:6px solid;padding:.6em 1em;margin:1em 0;background:#f7f7f7}
.ok{border-color:#2e7d32;background:#eef7ee}.warn{border-color:#e65100;background:#fff4e5}
.bad{border-color:#c62828;background:#fdecea}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
.figs{display:flex;flex-wrap:wrap;gap:.8em;align-items:flex-start}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:.85em}
.muted{color:#666;font-size:.9em}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    return "" if value is None else f"{value:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1, ident: str = "") -> str:
    """An HTML table; the first ``left`` columns are text, the others figures (already formatted)."""
    cls = lambda i: ' class="l"' if i < left else ""  # noqa: E731
    head = "".join(f"<th{cls(i)}>{_e(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{_e(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    attribute = f' id="{_e(ident)}"' if ident else ""
    return f"<table{attribute}><tr>{head}</tr>{body}</table>"


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def _figure(fig, alt: str, tight: bool = True) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight" if tight else None)
    return _img(buf.getvalue(), alt)


def protocol_box(labels: Optional[dict]) -> str:
    """The protocol box: green when speaker-independent and inductive, amber when anything is
    transductive, red when speakers are shared between training and test."""
    if not labels:
        return f'<div class="box warn" id="protocol">{_e(label_line(labels))}</div>'
    level = "bad" if not labels["speaker_independent"] else "warn" if labels["transductive"] else "ok"
    independent = ("speaker-independent: no test speaker is seen in training" if labels["speaker_independent"]
                   else "NOT speaker-independent: test speakers may also be in training")
    reasons = "".join(f"<li>{_e(r)}</li>" for r in labels["transductive"])
    transductive = (f"<b>transductive</b>: the test speakers' unlabelled audio is used<ul>{reasons}</ul>"
                    if reasons else "not transductive: no statistic or model is fitted on test audio")
    return (f'<div class="box {level}" id="protocol"><b>protocol {_e(labels["name"])}</b><br>{_e(independent)}'
            f"<br>{transductive}</div>")


def results_table(metrics: dict, ident: str = "results") -> str:
    """Per head and metric: pooled figure with its bootstrap 95% CI, mean ± std over folds (and
    over repeats, per recording), n and the baselines (chance, most frequent test label, one
    random guess, each fold's training majority)."""
    rows = []
    for head, h in metrics["heads"].items():
        base = h.get("baselines", {})
        for metric, value in h["pooled"].items():
            lo, hi = h["ci95"].get(metric, (None, None))
            over = h.get("over_folds", {}).get(metric, {})
            extra = [h.get(k, {}).get(metric) for k in ("over_repeats", "per_recording")]
            rows.append([head, metric, _num(value), f"[{_num(lo)}, {_num(hi)}]",
                         f"{_num(over.get('mean'))} ± {_num(over.get('std'))}" if over else "",
                         *(f"{_num(x['mean'])} ± {_num(x['std'])}" if isinstance(x, dict) else _num(x) for x in extra),
                         h.get("n", ""),
                         _num(base.get("chance", {}).get(metric, h.get("blank_only", {}).get(metric))),
                         *(_num(base.get(k, {}).get(metric)) for k in ("most_frequent", "random_guess",
                                                                       "training_majority"))])
    header = ["head", "metric", "pooled", "95% CI", "over folds", "over repeats", "per recording", "n", "chance",
              "most frequent", "random guess", "training majority"]
    keep = [i for i in range(len(header)) if i < 3 or any(row[i] != "" for row in rows)]  # drop empty columns
    return _table([header[i] for i in keep], [[row[i] for i in keep] for row in rows], left=2, ident=ident)


def folds_table(metrics: dict) -> str:
    """One row per fold: every head's test figures."""
    columns = [(head, m) for head, h in metrics["heads"].items() for m in h["pooled"]]
    rows = [[fold, *(_num(metrics["heads"][head].get("folds", {}).get(fold, {}).get(m)) for head, m in columns)]
            for fold in metrics["folds"]]
    several = len(metrics["heads"]) > 1
    return _table(["fold", *(f"{head} {m}" if several else m for head, m in columns)], rows, ident="folds")


class RunView:
    """What a page shows of one finished run, read once."""

    def __init__(self, run_dir: PathLike, registry: Optional[Registry] = None):
        self.layout = RunLayout(Path(run_dir))
        self.layout.require((self.layout.recipe, self.layout.metrics))
        self.dir = self.layout.dir
        self.metrics = self.layout.read_json(self.layout.metrics)
        if not isinstance(self.metrics, dict) or not isinstance(self.metrics.get("heads"), dict):
            raise SertkError(f"{self.layout.metrics}: damaged or not written by this sertk (no heads); "
                             f"run the recipe again")
        self.recipe_text = self.layout.recipe.read_text(encoding="utf-8")
        self.recipe = read_yaml(self.layout.recipe)
        self.provenance = self.layout.read_json(self.layout.run) if self.layout.run.is_file() else {}
        self.labels = recorded_labels(self.metrics, self.recipe, registry)
        self.histories = self.layout.read_json(self.layout.history) if self.layout.history.is_file() else {}

    def figures(self, compact: bool = False) -> str:
        """Confusion matrices and contour plots as written, the per-fold scores and (unless
        ``compact``) each fold's learning curves."""
        from .plots import fold_curves_figure, fold_scores_figure

        confusion = "".join(_img(p.read_bytes(), p.name) for p in sorted(self.dir.glob("confusion*.png")))
        drawn = self.layout.fold_scores  # runs before it was written get it drawn here
        scores = (_img(drawn.read_bytes(), "test score per fold") if drawn.is_file()
                  else _figure(fold_scores_figure(self.metrics), "test score per fold"))
        parts = [f'<div class="figs">{confusion}{scores}</div>']
        if compact:
            return "".join(parts)
        parts += [_img(p.read_bytes(), p.name) for p in sorted(self.dir.glob("contours_*.png"))]
        if self.histories:
            shown = dict(list(self.histories.items())[:MAX_PANELS])
            note = (f'<p class="muted">the first {MAX_PANELS} of {len(self.histories)} folds; all are in '
                    f"history.json</p>" if len(self.histories) > MAX_PANELS else "")
            curves = _figure(fold_curves_figure(shown), "learning curves", tight=False)
            parts.append("<h2>Learning curves</h2>" + note + curves)
        return "".join(parts)

    def analysis(self) -> str:
        """Each analyzer's scalar summary and plots (analysis/<name>/)."""
        root = self.dir / "analysis"
        parts = []
        for folder in sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []:
            parts.append(f"<h3>{_e(folder.name)}</h3>")
            summary = folder / "summary.json"
            if summary.is_file():
                values = self.layout.read_json(summary)
                rows = [[k, v] for k, v in (values.items() if isinstance(values, dict) else [])
                        if not isinstance(v, (dict, list))]
                parts.append(_table(["key", "value"], rows, left=2, ident=f"analysis-{folder.name}") if rows else "")
            images = sorted(folder.rglob("*.png"))
            parts += [_img(p.read_bytes(), str(p.relative_to(folder))) for p in images[:MAX_ANALYSIS_IMAGES]]
            if len(images) > MAX_ANALYSIS_IMAGES:
                parts.append(f'<p class="muted">{len(images) - MAX_ANALYSIS_IMAGES} more plots in '
                             f"{_e(folder.relative_to(self.dir))}/</p>")
        return "<h2>Analyzers</h2>" + "".join(parts) if parts else ""

    def provenance_table(self) -> str:
        """Versions, command, git commit, seed, start and finish time."""
        p = self.provenance
        finished = datetime.datetime.fromtimestamp(self.layout.metrics.stat().st_mtime).isoformat(timespec="seconds")
        rows = [["run directory", self.dir.resolve()], ["recipe", p.get("recipe", "")],
                ["command", p.get("command", "not recorded")], ["started", p.get("started", "")],
                ["finished", finished], ["seed", p.get("seed", "")], ["git commit", p.get("git_commit") or ""]]
        versions = p.get("versions", {})
        rows += [[name, v] for name, v in versions.items() if not isinstance(v, dict)]
        rows += [[f"plugin {name}", v] for name, v in (versions.get("plugins") or {}).items()]
        return _table(["", ""], rows, left=2, ident="provenance")


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>{body}</body></html>")


def run_page(run_dir: PathLike, registry: Optional[Registry] = None) -> str:
    """The HTML of one run's report."""
    view = RunView(run_dir, registry)
    with view.layout.reading(view.layout.metrics):
        return _page(f"sertk run {view.dir.name}", _run_body(view))


def _run_body(view: RunView) -> str:
    m = view.metrics
    body = [f"<h1>sertk run {_e(view.dir.name)}</h1>",
            f'<p class="muted">{len(m["folds"])} fold(s); figures as fractions (1 = perfect)</p>',
            protocol_box(view.labels), "<h2>Results</h2>", results_table(m)]
    if m.get("validation_score") is not None:
        body.append(f'<p class="muted">mean best validation score over folds: {_num(m["validation_score"])}</p>')
    body += ["<h2>Per fold</h2>", folds_table(m), "<h2>Figures</h2>", view.figures(), view.analysis(),
             "<h2>Recipe (resolved)</h2>", f"<pre>{_e(view.recipe_text)}</pre>",
             "<h2>Provenance</h2>", view.provenance_table()]
    return "".join(body)


def write_run_report(run_dir: PathLike, registry: Optional[Registry] = None) -> Path:
    """(Re)write ``RUN_DIR/report.html``; ``registry`` lets runs made before sertk recorded
    protocol labels get them from their recipe.  Returns the path."""
    path = Path(run_dir) / "report.html"
    write_text(path, run_page(run_dir, registry))
    return path


def comparison_page(run_dirs: Sequence[PathLike], registry: Optional[Registry] = None,
                    tests: Sequence[dict] = ()) -> str:
    """The HTML of several runs side by side: one pooled table (with CIs and protocol labels),
    the paired tests, then each run's protocol box, results, confusion and per-fold figures."""
    from .compare import compare_runs

    views = [RunView(d, registry) for d in run_dirs]
    metrics, rows = compare_runs(run_dirs, registry)
    table = [[r["run"], r["corpus"], r["model"], r["protocol"], short_label(r["labels"]), r["folds"], r["head"],
              r["n"], *(f"{_num(r['pooled'][m])} [{_num(r['ci95'][m][0])}, {_num(r['ci95'][m][1])}]"
                        if m in r["pooled"] else "" for m in metrics)] for r in rows]
    body = ["<h1>sertk: runs compared</h1>", "<h2>Pooled results [95% CI]</h2>",
            _table(["run", "corpus", "model", "protocol", "labels", "folds", "head", "n", *metrics], table, left=5,
                   ident="comparison")]
    if tests:
        paired = [[t["run1"], t["run2"], t["head"], t["metric"], t["pairs"], f"{t['mean_difference']:+.4f}",
                   "" if t["p_value"] is None else f"{t['p_value']:.3g}"] for t in tests]
        body += ["<h2>Paired permutation test over folds (later − first run)</h2>",
                 _table(["run1", "run2", "head", "metric", "pairs", "mean difference", "p"], paired, left=4,
                        ident="tests")]
    for i, view in enumerate(views):
        own = view.dir / "report.html"
        link = f' <a href="{_e(own.resolve().as_uri())}">its report</a>' if own.is_file() else ""
        body += [f"<h2>{_e(view.dir.name)}{link}</h2>", protocol_box(view.labels),
                 results_table(view.metrics, ident=f"results-{i}"), view.figures(compact=True)]
    return _page("sertk: runs compared", "".join(body))


def write_comparison_report(path: PathLike, run_dirs: Sequence[PathLike], registry: Optional[Registry] = None,
                            tests: Sequence[dict] = ()) -> Path:
    """Write the comparison page to ``path``; returns it."""
    write_text(path, comparison_page(run_dirs, registry, tests))
    return Path(path)
