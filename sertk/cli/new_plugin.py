"""``sertk new-plugin``: write a working plugin package to start from."""
from __future__ import annotations

import click

from . import main, user_errors


@main.command(name="new-plugin")
@click.argument("name")
@click.option("--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write sertk-NAME/ into.")
@click.option("--kinds", default="feature,model", show_default=True,
              help="Comma-separated component kinds, one example each: corpus, feature, model, loss, metric, "
                   "protocol, augmentation, strategy, analyzer, or all.")
@user_errors
def new_plugin(name, directory, kinds):
    """Write DIR/sertk-NAME/: a plugin package with one working component per kind, tests and a README."""
    from ..scaffold import parse_kinds, scaffold

    target = scaffold(name, directory, parse_kinds(kinds))
    click.echo(f"wrote {target}\nnext:\n  pip install -e {target}\n  sertk list --json\n"
               f"  python -m pytest {target / 'tests'}")
