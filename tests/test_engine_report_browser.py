"""report.html in a real browser: headless Chromium loads the report a generated run wrote,
its DOM holds the results table with the run's UA, and its screenshot is not blank."""
import json
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from sertk.cli import main

DEMO = str(pathlib.Path(__file__).resolve().parents[1] / "recipes" / "demo.yaml")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make browser installs it)")


def chromium(tmp_path, *args):
    """Run headless Chromium with a throw-away profile; returns its stdout."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_report_opens_in_chromium_with_results_table(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("SERTK_CACHE", str(tmp_path / "cache"))
    result = CliRunner().invoke(main, ["run", DEMO, "--out", str(tmp_path), "--set", "output.name=tiny",
                                       "--set", "corpus.params.n_speakers=3", "--set", "corpus.params.n_per_class=3",
                                       "--set", "train.epochs=2", "--set", "data.workers=1",
                                       "--set", "features=[{name: mfcc}]"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    run = tmp_path / "tiny"
    report = run / "report.html"  # written by the run itself
    ua = json.loads((run / "metrics.json").read_text())["heads"]["emotion"]["pooled"]["ua"]

    dom = chromium(tmp_path, "--dump-dom", report.as_uri())
    table = re.search(r'<table id="results">(.*?)</table>', dom, re.S)
    assert table, dom[:2000]
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in rows]
    ua_row = next(c for c in cells[1:] if c[1] == "ua")
    assert ua_row[cells[0].index("pooled")] == f"{ua:.3f}"
    assert 'id="protocol"' in dom and "protocol loso" in dom and "not transductive" in dom  # a plain run

    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1400", report.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    colours = np.unique(pixels, axis=0)
    assert len(colours) > 50  # text, table borders, the protocol box, figures
    assert (pixels.min(axis=1) < 200).mean() > 0.01  # more than a few dark pixels on the white page
