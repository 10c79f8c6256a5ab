"""Input and output helpers of the ``unlearnkit`` command: tables, tokens and subject files.

Everything here turns command-line text into the values the library expects (parameters, sample
ids, class labels, group conditions) or reads and writes files next to a model. Problems with
the *content* of a value raise typed :mod:`unlearnkit.errors`; problems with the *syntax* of an
option raise ``typer.BadParameter`` (a usage error, exit code 2).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
import rich.progress
import typer
from rich.console import Console

from unlearnkit.errors import DataValidationError, InvalidRequestError, preview

__all__ = [
    "SUBJECTS_SUFFIX",
    "coerce_feature",
    "coerce_id",
    "coerce_label",
    "coerce_where_value",
    "parse_assignments",
    "parse_params",
    "parse_value",
    "read_id_tokens",
    "read_subjects",
    "read_table",
    "select_features",
    "split_list",
    "subjects_from_column",
    "subjects_path",
    "update_subjects",
    "write_subjects",
]

#: Appended to a model path to name the file mapping subjects to their sample ids.
SUBJECTS_SUFFIX = ".subjects.json"
#: Version of the subject file layout.
SUBJECTS_FORMAT = 1

_INT = re.compile(r"[+-]?\d+")
_Compression: TypeAlias = Literal["gzip", "bz2", "zip", "xz"] | None
_TABLE_SUFFIXES: dict[str, tuple[str, _Compression]] = {
    ".csv": ("csv", None),
    ".csv.gz": ("csv", "gzip"),
    ".csv.bz2": ("csv", "bz2"),
    ".csv.zip": ("csv", "zip"),
    ".csv.xz": ("csv", "xz"),
    ".tsv": ("tsv", None),
    ".tsv.gz": ("tsv", "gzip"),
    ".parquet": ("parquet", None),
    ".pq": ("parquet", None),
}


# -- scalar parsing -----------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """Parse a ``--param`` value: int, float, bool, None, a JSON list/object, else the string.

    Examples
    --------
    >>> [parse_value(t) for t in ["3", "0.5", "1e-3", "true", "None", "[1, 2]", "auto"]]
    [3, 0.5, 0.001, True, None, [1, 2], 'auto']
    """
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if _INT.fullmatch(stripped):
        return int(stripped)
    try:
        return float(stripped)
    except ValueError:
        pass
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            pass
    return text


def split_list(text: str) -> list[str]:
    """Split ``"a, b,c"`` into ``["a", "b", "c"]``, dropping empty items."""
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_assignments(items: Sequence[str] | None, option: str) -> list[tuple[str, str]]:
    """Split each ``key=value`` item at its first ``=``; bad syntax is a usage error."""
    pairs = []
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(
                f"{item!r} is not of the form KEY=VALUE (for example {option} alpha=0.5).",
                param_hint=option,
            )
        pairs.append((key.strip(), value.strip()))
    return pairs


def parse_params(items: Sequence[str] | None) -> dict[str, Any]:
    """``["alpha=0.5", "fit_intercept=false"]`` -> ``{"alpha": 0.5, "fit_intercept": False}``."""
    params: dict[str, Any] = {}
    for key, value in parse_assignments(items, "--param"):
        if key in params:
            raise typer.BadParameter(f"Parameter {key!r} is given twice.", param_hint="--param")
        params[key] = parse_value(value)
    return params


# -- values for a loaded model ------------------------------------------------------------
def coerce_id(token: str, integer_ids: bool) -> Hashable:
    """A sample id as the model stores it: an int for integer-id models, else the string."""
    if not integer_ids:
        return token
    if not _INT.fullmatch(token.strip()):
        raise InvalidRequestError(
            f"Sample id {token!r} is not an integer, but this model's sample ids are integers; "
            "pass ids such as 3,17,42."
        )
    return int(token)


def coerce_label(token: str, classes: np.ndarray | None) -> Any:
    """A class label or target as the model knows it, parsed after the model's ``classes_``.

    Without ``classes_`` (regressors) the token becomes a number when it reads as one.
    """
    if classes is None:
        value = parse_value(token)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else token
    kind = np.asarray(classes).dtype.kind
    try:
        if kind == "b":
            lowered = token.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(token)
            return lowered in ("true", "1")
        if kind in "iu":
            return int(token)
        if kind == "f":
            return float(token)
    except ValueError:
        raise InvalidRequestError(
            f"Label {token!r} is not one of this model's classes "
            f"{preview(np.asarray(classes).tolist(), 12)}."
        ) from None
    if kind == "O":
        # Object labels may mix types; pick the class whose text matches the token.
        for label in np.asarray(classes).tolist():
            if str(label) == token:
                return label
    return token


def coerce_feature(token: str, names: Sequence[str] | None) -> Any:
    """A feature column: its name when the model knows names, else a position."""
    if names is not None and token in names:
        return token
    if _INT.fullmatch(token.strip()):
        return int(token)
    return token


def coerce_where_value(column: str, token: str, classes: np.ndarray | None) -> Any:
    """A group-condition value for ``column`` of the model's training table.

    The table has the feature columns (numbers) and the target ``y`` (class labels for
    classifiers, numbers for regressors).
    """
    if column == "y" and classes is not None:
        return coerce_label(token, classes)
    try:
        return float(token)
    except ValueError:
        return token


def read_id_tokens(path: Path) -> list[str]:
    """Ids from a text file (``-`` is standard input): one per line or comma-separated.

    Blank lines and lines starting with ``#`` are ignored.
    """
    if str(path) == "-":
        text = sys.stdin.read()
    else:
        if not path.is_file():
            raise FileNotFoundError(f"Ids file {str(path)!r} does not exist; check the path.")
        text = path.read_text()
    tokens: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith("#"):
            continue
        tokens.extend(split_list(line))
    return tokens


# -- tables -------------------------------------------------------------------------------
def _table_format(path: Path) -> tuple[str, _Compression]:
    name = path.name.lower()
    for suffix in sorted(_TABLE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return _TABLE_SUFFIXES[suffix]
    known = ", ".join(sorted(_TABLE_SUFFIXES))
    raise DataValidationError(
        f"Cannot tell the format of {str(path)!r} from its name; use a file ending in {known}."
    )


def read_table(path: Path, console: Console | None = None) -> pd.DataFrame:
    """Read a CSV/TSV (optionally compressed) or Parquet file, chosen by the file suffix.

    CSV files are read through a Rich progress bar on ``console`` (by bytes read).
    """
    if not path.is_file():
        raise FileNotFoundError(f"Data file {str(path)!r} does not exist; check the path.")
    fmt, compression = _table_format(path)
    try:
        if fmt == "parquet":
            if console is not None:
                with console.status(f"Reading {path.name}"):
                    return pd.read_parquet(path)
            return pd.read_parquet(path)
        sep = "\t" if fmt == "tsv" else ","
        with rich.progress.open(
            path,
            "rb",
            description=f"Reading {path.name}",
            console=console,
            transient=True,
            disable=console is None,
        ) as fh:
            return pd.read_csv(fh, sep=sep, compression=compression)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"Cannot read {str(path)!r} as {fmt.upper()}: {exc}") from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataValidationError(f"Cannot read {str(path)!r} as {fmt.upper()}: {exc}") from None


def select_features(
    frame: pd.DataFrame,
    *,
    reserved: Iterable[str | None],
    features: Sequence[str] | None,
    drop: Sequence[str],
) -> list[str]:
    """The feature columns: ``features`` if given, else every column not reserved, minus ``drop``.

    ``reserved`` are the target, id, subject and weight columns. Every named column must exist
    and every feature must be numeric (or boolean).
    """
    columns = [str(c) for c in frame.columns]
    used = [c for c in reserved if c is not None]
    missing = [c for c in [*used, *(features or []), *drop] if c not in columns]
    if missing:
        raise DataValidationError(
            f"Columns {preview(missing)} are not in the table; it has {preview(columns, 12)}."
        )
    chosen = list(features) if features is not None else [c for c in columns if c not in used]
    clash = [c for c in chosen if c in used]
    if clash:
        raise DataValidationError(
            f"Columns {preview(clash)} are the target, id, subject or weight column and cannot "
            "also be features; remove them from --features."
        )
    chosen = [c for c in chosen if c not in set(drop)]
    if not chosen:
        raise DataValidationError(
            "No feature columns are left; name some with --features or drop fewer with --drop."
        )
    text = [
        c
        for c in chosen
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if text:
        raise DataValidationError(
            f"Feature columns {preview(text)} are not numeric; encode them as numbers first, "
            f"or leave them out with --drop {','.join(text)}."
        )
    return chosen


# -- subject files ------------------------------------------------------------------------
def subjects_path(model_path: Path) -> Path:
    """Where the subject -> sample ids mapping of ``model_path`` lives."""
    return model_path.with_name(model_path.name + SUBJECTS_SUFFIX)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_subjects(
    model_path: Path, column: str | None, mapping: Mapping[str, Sequence[Hashable]] | None
) -> Path | None:
    """Write (or, when ``mapping`` is None, remove) the subject file beside a model."""
    path = subjects_path(model_path)
    if mapping is None:
        path.unlink(missing_ok=True)
        return None
    payload = {
        "format": SUBJECTS_FORMAT,
        "subject_column": column,
        "subjects": {str(s): list(ids) for s, ids in sorted(mapping.items())},
    }
    _atomic_write(path, json.dumps(payload, indent=1) + "\n")
    return path


def subjects_from_column(subjects: np.ndarray, ids: np.ndarray) -> dict[str, list[Hashable]]:
    """Group sample ids by subject; rows with a missing subject belong to no subject."""
    mapping: dict[str, list[Hashable]] = {}
    for subject, sample_id in zip(subjects.tolist(), ids.tolist(), strict=True):
        if subject is None or (isinstance(subject, float) and np.isnan(subject)):
            continue
        mapping.setdefault(str(subject), []).append(sample_id)
    return mapping


def read_subjects(model_path: Path) -> tuple[str | None, dict[str, list[Hashable]]]:
    """The subject column name and mapping stored beside ``model_path``."""
    path = subjects_path(model_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(model_path)!r} has no subject file ({path.name}): fit the model with "
            "--subject-column COL to record which rows belong to which subject."
        )
    try:
        payload = json.loads(path.read_text())
        column = payload.get("subject_column")
        mapping = {str(k): list(v) for k, v in payload["subjects"].items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise DataValidationError(
            f"Subject file {str(path)!r} is damaged ({exc}); refit with --subject-column."
        ) from None
    return column, mapping


def update_subjects(
    mapping: Mapping[str, Sequence[Hashable]], removed: Iterable[Hashable]
) -> dict[str, list[Hashable]]:
    """Drop ``removed`` ids from the mapping, and subjects left with no ids at all.

    A subject whose every row was forgotten leaves the file, so the file does not keep naming
    people whose data is gone.
    """
    gone = set(removed)
    out = {}
    for subject, ids in mapping.items():
        kept = [i for i in ids if i not in gone]
        if kept:
            out[subject] = kept
    return out
