"""hyperopt's trial history stored as JSON (never a pickle: opening a tuning
folder must not run code), restored exactly so that a search resumes with
the same suggestions."""
from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_text
from ..errors import SertkError

STATE_FILE = "trials-state.json"
_TIMES = ("book_time", "refresh_time")


def _plain(value: Any) -> Any:
    """JSON-ready copy of a trial document (numpy scalars, tuples, datetimes)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def save_trials(path: Path, trials) -> None:
    """Write every trial document of a hyperopt ``Trials`` atomically."""
    write_text(path, json.dumps([_plain(doc) for doc in trials.trials]))


def load_trials(path: Path):
    """A hyperopt ``Trials`` holding the documents saved by :func:`save_trials`."""
    from hyperopt import Trials

    trials = Trials()
    if not path.is_file():
        return trials
    try:
        docs = json.loads(path.read_text(encoding="utf-8"))
        for doc in docs:
            for key in _TIMES:
                if doc.get(key):
                    doc[key] = datetime.datetime.fromisoformat(doc[key])
            doc["misc"]["cmd"] = tuple(doc["misc"]["cmd"])
    except (OSError, ValueError, KeyError, TypeError) as why:
        raise SertkError(f"{path}: the saved tuning state is damaged ({why}); delete it to start the search again")
    trials.insert_trial_docs(docs)
    trials.refresh()
    return trials
