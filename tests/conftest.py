"""Fixtures shared by the test suite.

The course's data set and reference figures live in ``../shared`` beside the
repository and are read from there, never copied in.
"""

from __future__ import annotations

import os

# scikit-learn's estimator checks include an array-API check that skips itself
# unless SciPy was imported with this set; set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import json  # noqa: E402
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FOOTBALL = SHARED / "data" / "football.mat"
REFERENCE = SHARED / "reference" / "course_reference.json"


@pytest.fixture(scope="session")
def football_path() -> Path:
    assert FOOTBALL.is_file(), f"the course's football file is expected at {FOOTBALL}"
    return FOOTBALL


@pytest.fixture(scope="session")
def reference() -> dict:
    assert REFERENCE.is_file(), f"the course reference is expected at {REFERENCE}"
    return json.loads(REFERENCE.read_text())


def as_array(entry):
    """Turn a reference entry ``{"dtype": ..., "data": ...}`` (or a list) into an array."""
    if isinstance(entry, dict) and "data" in entry:
        return np.asarray(entry["data"], dtype=entry["dtype"])
    return np.asarray(entry, dtype=np.float64)
