"""``sertk report``: (re)write a finished run's report.html and open it."""
from __future__ import annotations

import os
import sys

import click

from . import _load, main, user_errors


def has_display() -> bool:
    """Whether a browser window can be shown: always on macOS and Windows, on other systems
    only with an X11 or Wayland display."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--no-open", is_flag=True, help="Only write the file; do not open it in a browser.")
@user_errors
def report(run_dir, no_open):
    """(Re)write RUN_DIR/report.html (self-contained: tables, figures, recipe, provenance,
    protocol labels) and open it in the web browser unless --no-open or there is no display."""
    import webbrowser

    from ..engine.report_html import write_run_report

    _, registry = _load()  # labels runs that did not record them, from their recipe
    path = write_run_report(run_dir, registry)
    click.echo(str(path))
    if not no_open and has_display():
        webbrowser.open(path.resolve().as_uri())
