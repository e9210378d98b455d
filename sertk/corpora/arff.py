"""A minimal reader for the ARFF files of the AVEC challenges (numeric and string attributes)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


class ArffError(ValueError):
    """An ARFF file that does not parse."""


def read_arff(path: Path) -> dict[str, np.ndarray]:
    """Columns of an ARFF file by attribute name: float arrays for numeric
    attributes, object arrays for the others."""
    names: list[str] = []
    numeric: list[bool] = []
    rows: list[list[str]] = []
    in_data = False
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("%"):
                continue
            if in_data:
                row = next(csv.reader([line], quotechar="'", skipinitialspace=True))
                if len(row) != len(names):
                    raise ArffError(f"{path}:{number}: {len(row)} values where {len(names)} attributes are declared")
                rows.append(row)
            elif line.lower().startswith("@attribute"):
                parts = line.split(None, 2)
                if len(parts) < 3:
                    raise ArffError(f"{path}:{number}: attribute without a type")
                names.append(parts[1].strip("'\""))
                numeric.append(parts[2].strip().lower() in ("numeric", "real", "integer"))
            elif line.lower().startswith("@data"):
                in_data = True
    if not in_data:
        raise ArffError(f"{path}: no @data section")
    columns = list(zip(*rows)) if rows else [()] * len(names)
    out = {}
    for name, is_numeric, values in zip(names, numeric, columns):
        try:
            out[name] = np.array(values, dtype=float) if is_numeric else np.array(values, dtype=object)
        except ValueError:
            raise ArffError(f"{path}: non-numeric value in numeric attribute {name!r}") from None
    return out
