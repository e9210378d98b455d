"""Seeding every random generator a model may use (torch only when it is loaded)."""
from __future__ import annotations

import random
import sys

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed python, numpy and, once imported, torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
