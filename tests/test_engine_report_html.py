"""report.html: the self-contained page of a run (tables, figures, recipe, provenance,
protocol box), the comparison page, and the ``sertk report`` / ``compare --html`` commands."""
import base64
import json
from html.parser import HTMLParser

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from sertk.cli import _load, main
from sertk.cli.report import has_display
from sertk.engine.plots import plot_confusion
from sertk.engine.report_html import comparison_page, run_page, write_run_report
from sertk.errors import SertkError

PLAIN = {"name": "loso", "speaker_independent": True, "transductive": []}
SPEAKER_NORM = {"name": "loso", "speaker_independent": True,
                "transductive": ["features.0 (mfcc): speaker-level normalisation uses each test speaker's "
                                 "unlabelled audio"]}


def fake_run(folder, ua=(0.5, 0.75), protocol=PLAIN, normalize=None, analysis=True):
    """A finished run's files with hand-made figures: two folds of 4 utterances each,
    per-fold UA ``ua``; pooled UA their mean."""
    folder.mkdir(parents=True)
    recipe = {"corpus": {"name": "synthetic", "params": {"n_speakers": 2}},
              "features": [{"name": "mfcc", "params": {"n_mfcc": 13}, "key": None, "normalize": normalize}],
              "model": {"name": "mlp", "params": {"note": "<b>not bold</b>"}},
              "protocol": {"name": "loso", "params": {}},
              "strategy": {"name": "supervised", "params": {}}}
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    folds = {"speaker-a": {"ua": ua[0], "wa": ua[0]}, "speaker-b": {"ua": ua[1], "wa": ua[1]}}
    pooled = float(np.mean(ua))
    head = {"kind": "classification", "level": "utterance", "n": 8, "pooled": {"ua": pooled, "wa": pooled},
            "ci95": {"ua": [0.25, 0.875], "wa": [0.25, 0.875]}, "folds": folds,
            "over_folds": {m: {"mean": pooled, "std": 0.125} for m in ("ua", "wa")},
            "classes": ["anger", "sadness"], "confusion": [[3, 1], [1, 3]],
            "baselines": {"chance": {"ua": 0.5, "wa": 0.5}, "most_frequent": {"ua": 0.5, "wa": 0.5},
                          "random_guess": {"ua": 0.4375, "wa": 0.4375},
                          "training_majority": {"ua": 0.5, "wa": 0.5}}}
    metrics = {"folds": list(folds), "heads": {"emotion": head}, "validation_score": 0.6}
    if protocol is not None:
        metrics["protocol"] = protocol
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "run.json").write_text(json.dumps({"recipe": "r.yaml", "seed": 7, "command": "sertk run r.yaml",
                                                 "started": "2026-01-02T03:04:05", "git_commit": "abc123",
                                                 "versions": {"sertk": "0.1.0", "python": "3.11.7",
                                                              "plugins": {"zhao": "0.1.0"}}}))
    history = {"train_loss": [{"emotion": 1.0}, {"emotion": 0.5}], "val_score": [0.5, 0.75], "lr": [0.1, 0.1],
               "best_epoch": 2, "stopped_early": False}
    (folder / "history.json").write_text(json.dumps({f: history for f in folds}))
    plot_confusion(np.array([[3, 1], [1, 3]]), ["anger", "sadness"], folder / "confusion.png")
    if analysis:
        (folder / "analysis" / "tsne" / "layers").mkdir(parents=True)
        (folder / "analysis" / "tsne" / "summary.json").write_text(json.dumps({"separation": 0.42, "per": [1, 2]}))
        plot_confusion(np.eye(2), ["x", "y"], folder / "analysis" / "tsne" / "layers" / "layer1.png")
    return folder


class Page(HTMLParser):
    """Tables (id → rows of cell texts), image sources, and every tag and attribute seen."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.images, self.tags, self.attrs = {}, [], set(), []
        self._table, self._row, self._cell = None, None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        self.attrs.append(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", f"table{len(self.tables)}"), [])
        elif tag == "tr":
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "img":
            self.images.append(attrs)

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._row.append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def column(table, name):
    header = table[0]
    return [row[header.index(name)] for row in table[1:]]


def test_run_page_holds_results_folds_figures_recipe_and_provenance(tmp_path):
    run = fake_run(tmp_path / "run")
    path = write_run_report(run)
    assert path == run / "report.html"
    text = path.read_text()
    page = Page(text)

    results = page.tables["results"]
    assert column(results, "metric") == ["ua", "wa"]
    assert column(results, "pooled") == ["0.625", "0.625"]  # mean of 0.5 and 0.75
    assert column(results, "95% CI")[0] == "[0.250, 0.875]"
    assert column(results, "over folds")[0] == "0.625 ± 0.125"
    assert column(results, "random guess")[0] == "0.438" and column(results, "chance")[0] == "0.500"
    assert "over repeats" not in results[0]  # columns without a value are left out
    assert page.tables["folds"] == [["fold", "ua", "wa"], ["speaker-a", "0.500", "0.500"],
                                    ["speaker-b", "0.750", "0.750"]]
    provenance = dict(page.tables["provenance"][1:])
    assert provenance["command"] == "sertk run r.yaml" and provenance["git commit"] == "abc123"
    assert provenance["plugin zhao"] == "0.1.0" and provenance["started"] == "2026-01-02T03:04:05"
    assert dict(page.tables["analysis-tsne"][1:]) == {"separation": "0.42"}  # the analyzer's scalars only

    # confusion, per-fold scores, learning curves, the analyzer's plot: all embedded PNGs
    assert [i["alt"] for i in page.images] == ["confusion.png", "test score per fold", "learning curves",
                                               "layers/layer1.png"]
    for image in page.images:
        data = base64.b64decode(image["src"].split(",", 1)[1])
        assert image["src"].startswith("data:image/png;base64,") and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert base64.b64decode(page.images[0]["src"].split(",", 1)[1]) == (run / "confusion.png").read_bytes()

    # self-contained: nothing to fetch, no script; recipe text escaped, not interpreted
    assert not {"script", "link", "iframe"} & page.tags
    assert not [a for a in page.attrs if any(str(v).startswith(("http", "//")) for v in a.values())]
    assert "note: &lt;b&gt;not bold&lt;/b&gt;" in text and "n_mfcc: 13" in text


def test_protocol_box_says_transductive_and_why(tmp_path):
    plain = run_page(fake_run(tmp_path / "plain"))
    assert 'class="box ok" id="protocol"' in plain and "not transductive" in plain
    normalised = run_page(fake_run(tmp_path / "norm", protocol=SPEAKER_NORM))
    assert 'class="box warn" id="protocol"' in normalised
    assert "<b>transductive</b>" in normalised and "features.0 (mfcc): speaker-level normalisation" in normalised
    shared = run_page(fake_run(tmp_path / "random", protocol={"name": "random", "speaker_independent": False,
                                                               "transductive": []}))
    assert 'class="box bad"' in shared and "NOT speaker-independent" in shared


def test_a_run_without_recorded_labels_gets_them_from_its_recipe(tmp_path):
    run = fake_run(tmp_path / "old", protocol=None, normalize="speaker")
    assert "protocol labels not recorded" in run_page(run)
    _, registry = _load()
    page = run_page(run, registry)
    assert "<b>transductive</b>" in page and "features.0 (mfcc)" in page


def test_a_missing_or_damaged_run_is_a_user_error(tmp_path):
    with pytest.raises(SertkError, match="not a finished sertk run"):
        write_run_report(tmp_path)
    run = fake_run(tmp_path / "bad")
    (run / "metrics.json").write_text('{"folds": []}')
    with pytest.raises(SertkError, match="metrics.json: damaged"):
        write_run_report(run)
    (run / "UNFINISHED").write_text("")
    with pytest.raises(SertkError, match="unfinished run"):
        write_run_report(run)


def test_comparison_page_labels_each_run(tmp_path):
    a = fake_run(tmp_path / "a", ua=(0.5, 0.5), analysis=False)
    b = fake_run(tmp_path / "b", ua=(0.75, 1.0), protocol=SPEAKER_NORM, analysis=False)
    tests = [{"run1": "a", "run2": "b", "head": "emotion", "metric": "ua", "pairs": 2, "mean_difference": 0.375,
              "p_value": 0.5}]
    page = Page(comparison_page([a, b], tests=tests))
    table = page.tables["comparison"]
    assert column(table, "run") == ["a", "b"]
    assert column(table, "labels") == ["speaker-indep.", "speaker-indep., transductive"]
    assert column(table, "ua") == ["0.500 [0.250, 0.875]", "0.875 [0.250, 0.875]"]
    assert column(page.tables["results-1"], "pooled")[0] == "0.875"
    assert ["a", "b", "emotion", "ua", "2", "+0.3750", "0.5"] in page.tables["tests"]
    assert len(page.images) == 4  # each run's confusion and per-fold figure


def test_report_and_compare_html_commands(tmp_path, monkeypatch):
    a = fake_run(tmp_path / "a", analysis=False)
    b = fake_run(tmp_path / "b", protocol=SPEAKER_NORM, analysis=False)
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    monkeypatch.setenv("DISPLAY", ":0")
    result = CliRunner().invoke(main, ["report", str(a), "--no-open"])
    assert result.exit_code == 0 and result.output.strip() == str(a / "report.html") and not opened
    assert (a / "report.html").is_file()
    result = CliRunner().invoke(main, ["report", str(a)])
    assert result.exit_code == 0 and opened == [(a / "report.html").resolve().as_uri()]
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert not has_display()
    assert CliRunner().invoke(main, ["report", str(a)]).exit_code == 0 and len(opened) == 1  # no display: not opened

    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--html", str(tmp_path / "both.html"),
                                       "--out", str(tmp_path / "both.csv")])
    assert result.exit_code == 0, result.output
    assert "loso (speaker-indep., transductive)" in result.output
    assert "b is transductive: features.0 (mfcc): speaker-level normalisation" in result.output
    assert column(Page((tmp_path / "both.html").read_text()).tables["comparison"], "run") == ["a", "b"]
    rows = (tmp_path / "both.csv").read_text().splitlines()
    assert rows[0].startswith("run,corpus,features,model,protocol,folds,head,n,speaker_independent,transductive,ua")
    assert ",True,features.0 (mfcc): speaker-level normalisation" in rows[2] and ",True,," in rows[1]

    result = CliRunner().invoke(main, ["report", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a finished sertk run" in result.output
