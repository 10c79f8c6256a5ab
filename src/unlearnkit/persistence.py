"""Saving and loading unlearners with a version stamp.

A model file is a one-line JSON header (format version, unlearnkit version, class) followed by a
pickle of the estimator, its training rows included: the rows are what later erasures remove.
Only load files you trust, as with any pickle. Files are created readable by their owner only
(mode 0600), whatever the umask: they hold personal training data.

Examples
--------
>>> import tempfile, numpy as np
>>> from unlearnkit.exact import RidgeUnlearner
>>> from unlearnkit.persistence import load
>>> m = RidgeUnlearner().fit(np.eye(3), [1.0, 2.0, 3.0])
>>> path = m.save(tempfile.mkdtemp() + "/ridge.ukit")
>>> type(load(path)).__name__
'RidgeUnlearner'
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from unlearnkit import __version__
from unlearnkit.errors import IncompatibleVersionError

__all__ = ["FORMAT_VERSION", "load", "read_header", "save"]

MAGIC = b"UNLEARNKIT-MODEL\n"
#: Bumped whenever a saved model could no longer be read the old way.
FORMAT_VERSION = 2

T = TypeVar("T")


def save(model: Any, path: str | Path) -> Path:
    """Write ``model`` atomically: a crash mid-write never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "format_version": FORMAT_VERSION,
        "unlearnkit_version": __version__,
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC)
            fh.write(json.dumps(header).encode() + b"\n")
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON header of a model file, without unpickling the model."""
    with open(path, "rb") as fh:
        return _read_header(fh, path)


def _read_header(fh: Any, path: str | Path) -> dict[str, Any]:
    if fh.readline() != MAGIC:
        raise IncompatibleVersionError(
            f"{path} is not an unlearnkit model file (missing header). "
            "Save models with model.save(path)."
        )
    header: dict[str, Any] = json.loads(fh.readline())
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise IncompatibleVersionError(
            f"{path} was written in model format {version} by unlearnkit "
            f"{header.get('unlearnkit_version')}; this unlearnkit {__version__} reads format "
            f"{FORMAT_VERSION}. Load it with the version that wrote it, or refit the model."
        )
    return header


def load(path: str | Path, expected: type[T] | None = None) -> T:
    """Read a model written by :func:`save`, checking its format version and class."""
    with open(path, "rb") as fh:
        header = _read_header(fh, path)
        model = pickle.load(fh)
    if expected is not None and not isinstance(model, expected):
        raise IncompatibleVersionError(
            f"{path} holds a {header['class']}, not a {expected.__name__}. "
            f"Load it with unlearnkit.persistence.load(path)."
        )
    return model
