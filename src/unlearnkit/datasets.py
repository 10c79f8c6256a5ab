"""Loaders for the real, public datasets the examples, benchmarks and tests use.

Every loader returns a :class:`~unlearnkit.data.Samples` with stable sample ids (and subject ids
where the data has a person identifier), a target ``y`` and group columns for fairness work
(``sex``, ``race``, ``age`` and the like). Each is registered in
:data:`unlearnkit.registry.datasets`, so ``load_dataset("adult")`` and the command line find it.

Features
--------
By default ``X`` is a numeric ``float64`` DataFrame that any estimator (for example
:class:`~unlearnkit.exact.RidgeUnlearner`) can be fitted on directly. Categorical columns are
one-hot encoded with a fixed, documented category order (the module constants
``ADULT_CATEGORIES``, ``COMPAS_CATEGORIES`` and ``GERMAN_CREDIT_CATEGORIES``), so the columns are
the same on every machine and for every split: the indicator column of category ``c`` of column
``col`` is named ``"col=c"``, and a missing value gives all zeros in that column's block. With
``as_frame=True`` ``X`` is the table before encoding instead: numbers as read, categorical
columns as :class:`pandas.Categorical` with the same category order, missing values as NaN.

Where the files come from
-------------------------
The files are never part of the project. For each file, the first of these places that has it
is used:

1. ``data_dir/<dataset dir>/`` when a loader is given ``data_dir``; otherwise
   ``$UNLEARNKIT_DATA/<dataset dir>/`` when that variable is set; otherwise
   ``../shared/data/<dataset dir>/`` and then ``./shared/data/<dataset dir>/`` (relative to the
   current directory);
2. the user cache, ``$UNLEARNKIT_CACHE/<dataset dir>/`` (default
   ``$XDG_CACHE_HOME/unlearnkit`` or ``~/.cache/unlearnkit``);
3. for Fashion-MNIST, ``/usr/share/datasets/fashion-mnist/`` (Debian package
   ``dataset-fashion-mnist``);
4. a download from the dataset's original public source into the cache (unless
   ``download=False``), with a short network timeout.

Every file is checked against its published SHA-256 before it is read (once per process and
file); a file that differs raises :class:`~unlearnkit.errors.ChecksumMismatchError`. A file that
is nowhere and cannot be downloaded raises :class:`~unlearnkit.errors.DatasetNotFoundError`,
listing the places looked in.

Examples
--------
>>> from unlearnkit.datasets import load_taiwan_credit
>>> data = load_taiwan_credit()
>>> X, y = data.X, data.y
>>> X.shape, round(float(y.mean()), 4), data.ids[:3].tolist()
((30000, 23), 0.2212, [1, 2, 3])
>>> list(X.columns[:5])
['LIMIT_BAL', 'SEX', 'EDUCATION', 'MARRIAGE', 'AGE']
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from unlearnkit.data import Samples
from unlearnkit.errors import (
    ChecksumMismatchError,
    DatasetNotFoundError,
    DataValidationError,
    InvalidParameterError,
    preview,
)
from unlearnkit.registry import datasets as _registry

__all__ = [
    "ADULT_CATEGORIES",
    "ADULT_COLUMNS",
    "COMPAS_CATEGORIES",
    "COMPAS_FEATURES",
    "DOWNLOAD_TIMEOUT",
    "FASHION_MNIST_CLASSES",
    "FILES",
    "GERMAN_CREDIT_CATEGORIES",
    "GERMAN_CREDIT_COLUMNS",
    "TAIWAN_CREDIT_FEATURES",
    "DatasetFile",
    "Source",
    "cache_dir",
    "data_dirs",
    "dataset_file",
    "load_adult",
    "load_compas",
    "load_dataset",
    "load_fashion_mnist",
    "load_german_credit",
    "load_taiwan_credit",
    "verify_file",
]

#: Seconds a download waits for the network before giving up (per connection attempt / read).
DOWNLOAD_TIMEOUT = 10.0

_GITHUB = "https://raw.githubusercontent.com"
_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases"
_FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"
_FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"


# -- file catalogue ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """Where a file can be downloaded from.

    ``restore`` turns the downloaded bytes into the published file, for sources that changed
    the layout (for example a header line added to a headerless file).
    """

    url: str
    restore: Callable[[bytes], bytes] | None = None


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset: where it lives and what its bytes must hash to.

    Attributes
    ----------
    directory : str
        The dataset's folder under the data root and the cache (e.g. ``"adult"``).
    name : str
        The file name.
    sha256 : str
        SHA-256 of the published file.
    sources : tuple of Source
        Download locations, tried in order.
    content_sha256 : str, optional
        For gzip files: SHA-256 of the decompressed bytes. A file whose own hash differs but
        whose content hashes to this is accepted (the same data compressed differently).
    system_dirs : tuple of str
        Directories where an operating-system package installs the file.
    """

    directory: str
    name: str
    sha256: str
    sources: tuple[Source, ...] = ()
    content_sha256: str | None = None
    system_dirs: tuple[str, ...] = ()


def _github_restore(first_line: bytes | None) -> Callable[[bytes], bytes]:
    """Undo the layout change of a GitHub copy of UCI Adult: header line added, blank end lost."""

    def restore(data: bytes) -> bytes:
        body = data.split(b"\n", 1)[1] if b"\n" in data else b""
        if not body.endswith(b"\n\n"):
            body += b"\n"
        return (first_line or b"") + body

    return restore


def _catalogue() -> dict[tuple[str, str], DatasetFile]:
    adult_gh = f"{_GITHUB}/YuzhongHuangCS/fairness/10dcbc38734e5f95a574c44de972b8e084229d38"
    german_gh = f"{_GITHUB}/lfvvercosa/base_german/79e3c5d7dbed57ca5b2b92cba72c1d9350c6370a"
    files = [
        DatasetFile(
            "taiwan_credit_default",
            "UCI_Credit_Card.csv",
            "023eb2c3ad9efd15e7869616fa50a0143f25223105c7069ba632431530afdb61",
            (
                Source(
                    f"{_GITHUB}/fju155447/uci/84670e783ab9fd2459b7096d82965f28dafb66b2/"
                    "UCI_Credit_Card.csv"
                ),
            ),
        ),
        DatasetFile(
            "adult",
            "adult.data",
            "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
            (
                Source(f"{_UCI}/adult/adult.data"),
                Source(f"{adult_gh}/adult.data", _github_restore(None)),
            ),
        ),
        DatasetFile(
            "adult",
            "adult.test",
            "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
            (
                Source(f"{_UCI}/adult/adult.test"),
                Source(f"{adult_gh}/adult.test", _github_restore(b"|1x3 Cross validator\n")),
            ),
        ),
        DatasetFile(
            "compas",
            "compas-scores-two-years.csv",
            "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
            (
                Source(
                    f"{_GITHUB}/propublica/compas-analysis/"
                    "bafff5da3f2e45eca6c2d5055faad269defd135a/compas-scores-two-years.csv"
                ),
            ),
        ),
        DatasetFile(
            "german_credit",
            "german.data",
            "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
            (Source(f"{german_gh}/german.data"), Source(f"{_UCI}/statlog/german/german.data")),
        ),
    ]
    fashion = {
        "train-images-idx3-ubyte.gz": (
            "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        "train-labels-idx1-ubyte.gz": (
            "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        "t10k-images-idx3-ubyte.gz": (
            "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        "t10k-labels-idx1-ubyte.gz": (
            "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    }
    for name, (gz_hash, content_hash) in fashion.items():
        files.append(
            DatasetFile(
                "fashion-mnist",
                name,
                gz_hash,
                (Source(f"{_FASHION_MNIST_URL}/{name}"),),
                content_sha256=content_hash,
                system_dirs=(_FASHION_MNIST_SYSTEM_DIR,),
            )
        )
    return {(f.directory, f.name): f for f in files}


#: Every known dataset file, keyed by ``(directory, name)``.
FILES: dict[tuple[str, str], DatasetFile] = _catalogue()


# -- locating and verifying ---------------------------------------------------------------
def data_dirs(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The data roots searched, in order (before the cache).

    ``data_dir`` when given; else ``$UNLEARNKIT_DATA`` when set; else ``../shared/data`` and
    ``./shared/data`` relative to the current directory.
    """
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    env = os.environ.get("UNLEARNKIT_DATA")
    if env:
        return [Path(env).expanduser()]
    return [Path("..", "shared", "data"), Path("shared", "data")]


def cache_dir() -> Path:
    """The user cache: ``$UNLEARNKIT_CACHE``, else ``$XDG_CACHE_HOME/unlearnkit``, else
    ``~/.cache/unlearnkit``. Downloads go here, one folder per dataset."""
    env = os.environ.get("UNLEARNKIT_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "unlearnkit"


#: Files verified in this process: (path, size, mtime, inode) -> SHA-256 it was accepted with.
_VERIFIED: dict[tuple[str, int, int, int], str] = {}


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _content_matches(data: bytes, content_sha256: str) -> bool:
    try:
        return hashlib.sha256(gzip.decompress(data)).hexdigest() == content_sha256
    except (OSError, EOFError, ValueError):
        return False


def verify_file(path: str | os.PathLike[str], spec: DatasetFile) -> Path:
    """Check ``path`` against the published SHA-256 of ``spec``; return it as a Path.

    The hash is computed once per process for an unchanged file.

    Raises
    ------
    ChecksumMismatchError
        The bytes differ from the published file; the message names the file and both hashes.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key in _VERIFIED:
        return path
    actual = _sha256_file(path)
    ok = actual == spec.sha256
    if not ok and spec.content_sha256 is not None:
        ok = _content_matches(path.read_bytes(), spec.content_sha256)
    if not ok:
        alt = (
            f" (or decompressed content SHA-256 {spec.content_sha256})"
            if spec.content_sha256
            else ""
        )
        raise ChecksumMismatchError(
            f"Dataset file {path} has SHA-256 {actual}, but the published {spec.name} has "
            f"{spec.sha256}{alt}. The file is damaged or a different version: delete it or "
            f"replace it with the original"
            + (f" from {spec.sources[0].url}" if spec.sources else "")
            + ", then load again."
        )
    _VERIFIED[key] = actual
    return path


def _download(spec: DatasetFile, target_dir: Path, errors: list[str]) -> Path | None:
    """Fetch ``spec`` from its sources into ``target_dir``; None when every source failed.

    Failures are appended to ``errors``. Raises ChecksumMismatchError when a source answered
    but none delivered the published bytes.
    """
    mismatches: list[str] = []
    for source in spec.sources:
        try:
            with urllib.request.urlopen(source.url, timeout=DOWNLOAD_TIMEOUT) as response:
                data = response.read()
        except (OSError, ValueError, http.client.HTTPException) as exc:  # offline, timeout, 404
            errors.append(f"download from {source.url} failed: {exc}")
            continue
        if source.restore is not None:
            data = source.restore(data)
        actual = hashlib.sha256(data).hexdigest()
        if actual != spec.sha256 and not (
            spec.content_sha256 is not None and _content_matches(data, spec.content_sha256)
        ):
            mismatches.append(f"{source.url} gave SHA-256 {actual}")
            continue
        target_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=target_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target_dir / spec.name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return verify_file(target_dir / spec.name, spec)
    if mismatches:
        raise ChecksumMismatchError(
            f"Downloaded {spec.name} does not match its published SHA-256 {spec.sha256}: "
            + "; ".join(mismatches)
            + ". Nothing was saved. Get the original file and put it into "
            f"{target_dir}."
        )
    return None


def dataset_file(
    directory: str,
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Path:
    """Locate (or download) one dataset file and verify its SHA-256.

    Parameters
    ----------
    directory, name : str
        A key of :data:`FILES`, e.g. ``("compas", "compas-scores-two-years.csv")``.
    data_dir : path, optional
        The data root to search instead of ``$UNLEARNKIT_DATA`` / ``../shared/data``.
    download : bool, default=True
        Whether a file found nowhere may be downloaded into the cache.

    Returns
    -------
    Path
        The verified file; read it yourself for columns the loaders leave out.

    Raises
    ------
    DatasetNotFoundError
        The file is in none of the places and was not downloaded.
    ChecksumMismatchError
        The file found (or downloaded) is not the published one.
    """
    try:
        spec = FILES[(directory, name)]
    except KeyError:
        known = sorted(f"{d}/{n}" for d, n in FILES)
        raise InvalidParameterError(
            f"No dataset file {directory}/{name} is known; known files are {preview(known, 20)}."
        ) from None
    roots = data_dirs(data_dir)
    candidates = [root / directory for root in roots]
    candidates.append(cache_dir() / directory)
    candidates.extend(Path(d) for d in spec.system_dirs)
    for folder in candidates:
        path = folder / name
        if path.is_file():
            return verify_file(path, spec)
    errors: list[str] = []
    target = cache_dir() / directory
    if download and spec.sources:
        found = _download(spec, target, errors)
        if found is not None:
            return found
    elif not download:
        errors.append("downloading was disabled (download=False)")
    looked = ", ".join(str((folder / name).absolute()) for folder in candidates)
    where = (
        f"$UNLEARNKIT_DATA/{directory}/ (now {(roots[0] / directory).absolute()})"
        if data_dir is None and os.environ.get("UNLEARNKIT_DATA")
        else f"{(roots[0] / directory).absolute()}/"
    )
    extra = " or install the Debian package dataset-fashion-mnist" if spec.system_dirs else ""
    source = f" Its public source is {spec.sources[0].url}." if spec.sources else ""
    raise DatasetNotFoundError(
        f"Dataset file {name} ({directory}) was not found. Looked in: {looked}. "
        + (" ".join(e[0].upper() + e[1:] + "." for e in errors) + " " if errors else "")
        + f"Put the file into {where} or {target}/{extra}, point UNLEARNKIT_DATA at the folder "
        f"that holds {directory}/, or load with download=True on a machine that is online.{source}"
    )


# -- helpers ------------------------------------------------------------------------------
def _encode(
    frame: pd.DataFrame, categories: Mapping[str, Sequence[Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (raw frame with categoricals, numeric float64 frame with one-hot blocks).

    Columns keep their order; each categorical column becomes its block of ``col=value``
    indicators in the fixed category order. A missing value gives an all-zero block; a value
    outside the fixed categories is an error.
    """
    raw = frame.copy()
    blocks: list[pd.DataFrame] = []
    n = len(frame)
    for col in frame.columns:
        if col in categories:
            cats = list(categories[col])
            cat = pd.Categorical(frame[col], categories=cats)
            unknown = sorted(
                {str(v) for v in frame[col][(cat.codes < 0) & frame[col].notna()].tolist()}
            )
            if unknown:
                raise DataValidationError(
                    f"Column {col!r} has values {preview(unknown)} outside its documented "
                    f"categories {preview(cats, 12)}; the file is not the published one."
                )
            raw[col] = cat
            onehot = np.zeros((n, len(cats)))
            rows = np.flatnonzero(cat.codes >= 0)
            onehot[rows, cat.codes[rows]] = 1.0
            blocks.append(pd.DataFrame(onehot, columns=[f"{col}={c}" for c in cats]))
        else:
            values = pd.to_numeric(frame[col]).to_numpy(dtype=np.float64)
            blocks.append(pd.DataFrame({col: values}))
    numeric = pd.concat(blocks, axis=1)
    return raw.reset_index(drop=True), numeric


def _check_split(split: str) -> Literal["train", "test"]:
    if split not in ("train", "test"):
        raise InvalidParameterError(f"split must be 'train' or 'test', got {split!r}.")
    return split  # type: ignore[return-value]


# -- Taiwan credit default --------------------------------------------------------------------
#: Readable names of the Taiwan data's coded columns X1..X23 (UCI dataset 350).
TAIWAN_CREDIT_FEATURES: tuple[str, ...] = (
    "LIMIT_BAL",
    "SEX",
    "EDUCATION",
    "MARRIAGE",
    "AGE",
    "PAY_0",
    "PAY_2",
    "PAY_3",
    "PAY_4",
    "PAY_5",
    "PAY_6",
    *(f"BILL_AMT{i}" for i in range(1, 7)),
    *(f"PAY_AMT{i}" for i in range(1, 7)),
)
_TAIWAN_EDUCATION = {1: "graduate school", 2: "university", 3: "high school", 4: "others"}
_TAIWAN_MARRIAGE = {1: "married", 2: "single", 3: "others"}


def load_taiwan_credit(
    *,
    as_frame: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Samples:
    """Default of Credit Card Clients (Taiwan, 2005): 30,000 clients, one row each.

    Yeh & Lien (2009), UCI dataset 350, CC BY 4.0.

    Parameters
    ----------
    as_frame : bool, default=False
        False: ``X`` is float64. True: ``X`` holds the integer codes as read.
    data_dir : path, optional
        Data root to search instead of ``$UNLEARNKIT_DATA`` (see the module docstring).
    download : bool, default=True
        Whether a missing file may be downloaded into the cache.

    Returns
    -------
    Samples
        ``X``: the 23 features X1..X23 under their readable names (``LIMIT_BAL``, ``SEX``
        (1 = male, 2 = female), ``EDUCATION``, ``MARRIAGE``, ``AGE``, ``PAY_0``, ``PAY_2`` ..
        ``PAY_6`` (repayment status), ``BILL_AMT1..6``, ``PAY_AMT1..6``); the codes are kept
        as numbers. ``y``: default payment next month (0/1, mean 0.2212). ``ids`` and
        ``subjects``: the client ``ID`` (1..30000). ``groups``: ``sex`` (``"male"`` /
        ``"female"``), ``age``, ``education`` and ``marriage`` (labels; undocumented codes
        are ``"unknown"``).

    Examples
    --------
    >>> data = load_taiwan_credit()
    >>> data.groups["sex"].value_counts().to_dict()
    {'female': 18112, 'male': 11888}
    """
    path = dataset_file(
        "taiwan_credit_default", "UCI_Credit_Card.csv", data_dir=data_dir, download=download
    )
    df = pd.read_csv(path)
    coded = [f"X{i}" for i in range(1, 24)]
    X = df[coded].set_axis(list(TAIWAN_CREDIT_FEATURES), axis=1)
    if not as_frame:
        X = X.astype(np.float64)
    sex = df["X2"].map({1: "male", 2: "female"}).fillna("unknown")
    groups = pd.DataFrame(
        {
            "sex": sex.astype(object),
            "age": df["X5"].to_numpy(),
            "education": df["X3"].map(_TAIWAN_EDUCATION).fillna("unknown").astype(object),
            "marriage": df["X4"].map(_TAIWAN_MARRIAGE).fillna("unknown").astype(object),
        }
    )
    ids = df["ID"].to_numpy(dtype=np.int64)
    return Samples(
        X=X,
        y=df["Y"].to_numpy(dtype=np.int64),
        ids=ids,
        subjects=ids,
        groups=groups,
        name="taiwan_credit",
    )


# -- Adult ------------------------------------------------------------------------------------
#: Column names of UCI Adult, in file order (the last one, ``income``, is the target).
ADULT_COLUMNS: tuple[str, ...] = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
)

#: The fixed category order of each categorical Adult column (as listed in ``adult.names``).
ADULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "workclass": (
        "Private",
        "Self-emp-not-inc",
        "Self-emp-inc",
        "Federal-gov",
        "Local-gov",
        "State-gov",
        "Without-pay",
        "Never-worked",
    ),
    "education": (
        "Bachelors",
        "Some-college",
        "11th",
        "HS-grad",
        "Prof-school",
        "Assoc-acdm",
        "Assoc-voc",
        "9th",
        "7th-8th",
        "12th",
        "Masters",
        "1st-4th",
        "10th",
        "Doctorate",
        "5th-6th",
        "Preschool",
    ),
    "marital-status": (
        "Married-civ-spouse",
        "Divorced",
        "Never-married",
        "Separated",
        "Widowed",
        "Married-spouse-absent",
        "Married-AF-spouse",
    ),
    "occupation": (
        "Tech-support",
        "Craft-repair",
        "Other-service",
        "Sales",
        "Exec-managerial",
        "Prof-specialty",
        "Handlers-cleaners",
        "Machine-op-inspct",
        "Adm-clerical",
        "Farming-fishing",
        "Transport-moving",
        "Priv-house-serv",
        "Protective-serv",
        "Armed-Forces",
    ),
    "relationship": (
        "Wife",
        "Own-child",
        "Husband",
        "Not-in-family",
        "Other-relative",
        "Unmarried",
    ),
    "race": ("White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"),
    "sex": ("Female", "Male"),
    "native-country": (
        "United-States",
        "Cambodia",
        "England",
        "Puerto-Rico",
        "Canada",
        "Germany",
        "Outlying-US(Guam-USVI-etc)",
        "India",
        "Japan",
        "Greece",
        "South",
        "China",
        "Cuba",
        "Iran",
        "Honduras",
        "Philippines",
        "Italy",
        "Poland",
        "Jamaica",
        "Vietnam",
        "Mexico",
        "Portugal",
        "Ireland",
        "France",
        "Dominican-Republic",
        "Laos",
        "Ecuador",
        "Taiwan",
        "Haiti",
        "Columbia",
        "Hungary",
        "Guatemala",
        "Nicaragua",
        "Scotland",
        "Thailand",
        "Yugoslavia",
        "El-Salvador",
        "Trinadad&Tobago",
        "Peru",
        "Hong",
        "Holand-Netherlands",
    ),
}

#: Rows in the Adult training file; test-split ids start here so the splits never collide.
ADULT_TRAIN_ROWS = 32_561


def load_adult(
    split: Literal["train", "test"] = "train",
    *,
    as_frame: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Samples:
    """UCI Adult (Census Income, 1994): predict income above $50K.

    Kohavi & Becker (1996), UCI Machine Learning Repository, CC BY 4.0.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        ``adult.data`` (32,561 rows) or ``adult.test`` (16,281 rows).
    as_frame : bool, default=False
        False: numeric ``X`` with one-hot blocks (:data:`ADULT_CATEGORIES` order, 105 columns;
        a missing ``?`` gives an all-zero block). True: the 14 columns as read, categoricals as
        :class:`pandas.Categorical`, missing values as NaN.
    data_dir : path, optional
        Data root to search instead of ``$UNLEARNKIT_DATA``.
    download : bool, default=True
        Whether a missing file may be downloaded into the cache.

    Returns
    -------
    Samples
        ``y``: 1 when income is ``>50K`` (the test file's trailing dot removed). ``ids``: the
        row number, ``0..32560`` for train and ``32561..48841`` for test, so the two splits
        never share an id. No subject ids (the census rows carry no person identifier).
        ``groups``: ``sex``, ``race``, ``age``.

    Examples
    --------
    >>> train = load_adult("train")
    >>> train.X.shape, int(train.y.sum())
    ((32561, 105), 7841)
    >>> load_adult("test").ids[0].item()
    32561
    """
    split = _check_split(split)
    name = "adult.data" if split == "train" else "adult.test"
    path = dataset_file("adult", name, data_dir=data_dir, download=download)
    df = pd.read_csv(
        path,
        names=list(ADULT_COLUMNS),
        skipinitialspace=True,
        na_values="?",
        skiprows=1 if split == "test" else 0,
        keep_default_na=False,
    )
    income = df.pop("income").astype(str).str.rstrip(".")
    bad = sorted(set(income) - {"<=50K", ">50K"})
    if bad:
        raise DataValidationError(
            f"Adult {split} has income labels {preview(bad)}; expected '<=50K' and '>50K'."
        )
    raw, numeric = _encode(df, ADULT_CATEGORIES)
    offset = 0 if split == "train" else ADULT_TRAIN_ROWS
    groups = pd.DataFrame(
        {
            "sex": df["sex"].astype(object).to_numpy(),
            "race": df["race"].astype(object).to_numpy(),
            "age": df["age"].to_numpy(),
        }
    )
    return Samples(
        X=raw if as_frame else numeric,
        y=(income == ">50K").to_numpy(dtype=np.int64),
        ids=np.arange(offset, offset + len(df), dtype=np.int64),
        groups=groups,
        name=f"adult-{split}",
    )


# -- COMPAS -----------------------------------------------------------------------------------
#: Feature columns of :func:`load_compas` (the ProPublica analysis' defendant attributes).
COMPAS_FEATURES: tuple[str, ...] = (
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
)

#: The fixed category order of each categorical COMPAS feature.
COMPAS_CATEGORIES: dict[str, tuple[str, ...]] = {
    "sex": ("Male", "Female"),
    "age_cat": ("Less than 25", "25 - 45", "Greater than 45"),
    "race": (
        "African-American",
        "Caucasian",
        "Hispanic",
        "Other",
        "Asian",
        "Native American",
    ),
    "c_charge_degree": ("F", "M"),
}


def load_compas(
    *,
    propublica_filter: bool = True,
    as_frame: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Samples:
    """ProPublica COMPAS two-year recidivism (Broward County, FL, 2013-2014).

    Angwin, Larson, Mattu & Kirchner, "Machine Bias", ProPublica (2016).

    Parameters
    ----------
    propublica_filter : bool, default=True
        Apply the filter of ProPublica's analysis: ``days_b_screening_arrest`` in [-30, 30],
        ``is_recid != -1``, ``c_charge_degree != 'O'``, ``score_text != 'N/A'`` (6,172 of
        7,214 rows).
    as_frame : bool, default=False
        False: numeric ``X`` with one-hot blocks in :data:`COMPAS_CATEGORIES` order. True:
        the :data:`COMPAS_FEATURES` columns as read, categoricals as :class:`pandas.Categorical`.
    data_dir : path, optional
        Data root to search instead of ``$UNLEARNKIT_DATA``.
    download : bool, default=True
        Whether a missing file may be downloaded into the cache.

    Returns
    -------
    Samples
        ``X``: :data:`COMPAS_FEATURES` (the COMPAS scores themselves are not features).
        ``y``: ``two_year_recid`` (0/1). ``ids`` and ``subjects``: the defendant ``id``.
        ``groups``: ``race``, ``sex``, ``age``, ``age_cat``, and the COMPAS outputs
        ``decile_score`` and ``score_text`` for comparison. Names and case numbers are left
        out; read :func:`dataset_file` ``("compas", "compas-scores-two-years.csv")`` for all
        53 columns.

    Examples
    --------
    >>> data = load_compas()
    >>> len(data), round(float(data.y.mean()), 4)
    (6172, 0.4551)
    >>> len(load_compas(propublica_filter=False))
    7214
    """
    path = dataset_file(
        "compas", "compas-scores-two-years.csv", data_dir=data_dir, download=download
    )
    df = pd.read_csv(path)
    if propublica_filter:
        keep = (
            df["days_b_screening_arrest"].between(-30, 30)
            & (df["is_recid"] != -1)
            & (df["c_charge_degree"] != "O")
            & (df["score_text"].fillna("N/A") != "N/A")
        )
        df = df[keep].reset_index(drop=True)
    raw, numeric = _encode(df[list(COMPAS_FEATURES)], COMPAS_CATEGORIES)
    groups = pd.DataFrame(
        {
            "race": df["race"].astype(object).to_numpy(),
            "sex": df["sex"].astype(object).to_numpy(),
            "age": df["age"].to_numpy(),
            "age_cat": df["age_cat"].astype(object).to_numpy(),
            "decile_score": df["decile_score"].to_numpy(),
            "score_text": df["score_text"].astype(object).to_numpy(),
        }
    )
    ids = df["id"].to_numpy(dtype=np.int64)
    return Samples(
        X=raw if as_frame else numeric,
        y=df["two_year_recid"].to_numpy(dtype=np.int64),
        ids=ids,
        subjects=ids,
        groups=groups,
        name="compas",
    )


# -- German credit ----------------------------------------------------------------------------
#: Names of the 20 attributes of ``german.data`` (in file order, after ``german.doc``).
GERMAN_CREDIT_COLUMNS: tuple[str, ...] = (
    "checking_account",
    "duration_months",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "people_liable",
    "telephone",
    "foreign_worker",
)

#: The fixed category order (the attribute codes of ``german.doc``) of each categorical column.
GERMAN_CREDIT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "checking_account": ("A11", "A12", "A13", "A14"),
    "credit_history": ("A30", "A31", "A32", "A33", "A34"),
    "purpose": ("A40", "A41", "A42", "A43", "A44", "A45", "A46", "A47", "A48", "A49", "A410"),
    "savings": ("A61", "A62", "A63", "A64", "A65"),
    "employment_since": ("A71", "A72", "A73", "A74", "A75"),
    "personal_status_sex": ("A91", "A92", "A93", "A94", "A95"),
    "other_debtors": ("A101", "A102", "A103"),
    "property": ("A121", "A122", "A123", "A124"),
    "other_installment_plans": ("A141", "A142", "A143"),
    "housing": ("A151", "A152", "A153"),
    "job": ("A171", "A172", "A173", "A174"),
    "telephone": ("A191", "A192"),
    "foreign_worker": ("A201", "A202"),
}
_GERMAN_SEX = {"A91": "male", "A92": "female", "A93": "male", "A94": "male", "A95": "female"}


def load_german_credit(
    *,
    as_frame: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Samples:
    """UCI Statlog German Credit: 1,000 applicants, 700 good and 300 bad credit risks.

    Prof. Hans Hofmann, Universität Hamburg (1994); UCI, CC BY 4.0.

    Parameters
    ----------
    as_frame : bool, default=False
        False: numeric ``X``, the 13 coded attributes one-hot encoded in
        :data:`GERMAN_CREDIT_CATEGORIES` order (63 columns; ``purpose=A47`` never occurs and
        is all zeros). True: the 20 attributes as read, codes (``"A11"`` ...) as
        :class:`pandas.Categorical`.
    data_dir : path, optional
        Data root to search instead of ``$UNLEARNKIT_DATA``.
    download : bool, default=True
        Whether a missing file may be downloaded into the cache.

    Returns
    -------
    Samples
        ``X``: :data:`GERMAN_CREDIT_COLUMNS`. ``y``: 1 for a bad credit risk (class 2 of the
        file), 0 for good (see the cost matrix in ``german.doc``: misclassifying a bad risk
        as good costs 5). ``ids``: row number 0..999; no subject ids. ``groups``: ``sex``
        (from attribute 9), ``personal_status`` (its code), ``age``, ``foreign_worker``
        (``"yes"`` / ``"no"``).

    Examples
    --------
    >>> data = load_german_credit()
    >>> data.X.shape, int(data.y.sum())
    ((1000, 63), 300)
    """
    path = dataset_file("german_credit", "german.data", data_dir=data_dir, download=download)
    df = pd.read_csv(path, sep=" ", header=None, names=[*GERMAN_CREDIT_COLUMNS, "class"])
    labels = df.pop("class")
    if not labels.isin([1, 2]).all():
        raise DataValidationError("German credit classes must be 1 (good) or 2 (bad).")
    raw, numeric = _encode(df, GERMAN_CREDIT_CATEGORIES)
    status = df["personal_status_sex"].astype(object)
    groups = pd.DataFrame(
        {
            "sex": status.map(_GERMAN_SEX).to_numpy(),
            "personal_status": status.to_numpy(),
            "age": df["age"].to_numpy(),
            "foreign_worker": df["foreign_worker"].map({"A201": "yes", "A202": "no"}).to_numpy(),
        }
    )
    return Samples(
        X=raw if as_frame else numeric,
        y=(labels == 2).to_numpy(dtype=np.int64),
        groups=groups,
        name="german_credit",
    )


# -- Fashion-MNIST ----------------------------------------------------------------------------
#: Class names of Fashion-MNIST labels 0..9.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_FASHION_TRAIN_ROWS = 60_000


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    data = gzip.decompress(path.read_bytes())
    header = np.frombuffer(data, dtype=">u4", count=1 + ndim)
    if int(header[0]) != magic:
        raise DataValidationError(f"{path} is not an IDX file with magic number {magic}.")
    shape = tuple(int(v) for v in header[1:])
    return np.frombuffer(data, dtype=np.uint8, offset=4 * (1 + ndim)).reshape(shape)


def load_fashion_mnist(
    split: Literal["train", "test"] = "train",
    *,
    scale: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Samples:
    """Fashion-MNIST: 28x28 grayscale images of clothing in 10 classes, 6,000 (train) or
    1,000 (test) per class.

    Xiao, Rasul & Vollgraf (2017), arXiv:1708.07747, MIT licence.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        60,000 training or 10,000 test images.
    scale : bool, default=True
        True: ``X`` is float32 in [0, 1] (pixel / 255). False: ``X`` is uint8 in 0..255.
    data_dir : path, optional
        Data root to search instead of ``$UNLEARNKIT_DATA``; the Debian package
        ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``) is also searched.
    download : bool, default=True
        Whether missing files may be downloaded into the cache.

    Returns
    -------
    Samples
        ``X``: shape ``(n, 784)``, images flattened row by row (``X.reshape(-1, 28, 28)``
        restores them). ``y``: labels 0..9 (names in :data:`FASHION_MNIST_CLASSES`).
        ``ids``: ``0..59999`` for train and ``60000..69999`` for test, so the splits never
        share an id. ``groups``: ``label_name``.

    Examples
    --------
    >>> test = load_fashion_mnist("test")
    >>> test.X.shape, test.X.dtype.name, float(test.X.max()), test.ids[0].item()
    ((10000, 784), 'float32', 1.0, 60000)
    """
    split = _check_split(split)
    prefix = "train" if split == "train" else "t10k"
    images_path = dataset_file(
        "fashion-mnist", f"{prefix}-images-idx3-ubyte.gz", data_dir=data_dir, download=download
    )
    labels_path = dataset_file(
        "fashion-mnist", f"{prefix}-labels-idx1-ubyte.gz", data_dir=data_dir, download=download
    )
    images = _read_idx(images_path, 2051, 3)
    labels = _read_idx(labels_path, 2049, 1).astype(np.int64)
    if len(images) != len(labels):
        raise DataValidationError(
            f"Fashion-MNIST {split}: {len(images)} images but {len(labels)} labels."
        )
    flat = images.reshape(len(images), -1)
    X = flat.astype(np.float32) / np.float32(255.0) if scale else flat.copy()
    offset = 0 if split == "train" else _FASHION_TRAIN_ROWS
    names = np.asarray(FASHION_MNIST_CLASSES, dtype=object)[labels]
    return Samples(
        X=X,
        y=labels,
        ids=np.arange(offset, offset + len(labels), dtype=np.int64),
        groups=pd.DataFrame({"label_name": names}),
        name=f"fashion_mnist-{split}",
    )


# -- registry -----------------------------------------------------------------------------
def load_dataset(name: str, **kwargs: Any) -> Samples:
    """Load a registered dataset by name (see ``unlearnkit.registry.datasets.names()``).

    Examples
    --------
    >>> len(load_dataset("german_credit"))
    1000
    """
    loader = _registry.get(name)
    result: Samples = loader(**kwargs)
    return result


_registry.add("taiwan_credit", load_taiwan_credit)
_registry.add("adult", load_adult)
_registry.add("compas", load_compas)
_registry.add("german_credit", load_german_credit)
_registry.add("fashion_mnist", load_fashion_mnist)
