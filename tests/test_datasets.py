"""Dataset loaders: shapes, targets, ids, subjects, encodings, checksums, lookup and download.

The real files come from ``$UNLEARNKIT_DATA`` (``../shared/data``). Every test loads with
``download=False`` or with a ``file://`` / monkeypatched source, so no test touches the network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import doctest
import gzip
import hashlib
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import unlearnkit.datasets as ds
from unlearnkit.datasets import (
    ADULT_CATEGORIES,
    COMPAS_FEATURES,
    FASHION_MNIST_CLASSES,
    GERMAN_CREDIT_COLUMNS,
    TAIWAN_CREDIT_FEATURES,
    Source,
    cache_dir,
    data_dirs,
    dataset_file,
    load_adult,
    load_compas,
    load_dataset,
    load_fashion_mnist,
    load_german_credit,
    load_taiwan_credit,
)
from unlearnkit.errors import (
    ChecksumMismatchError,
    DatasetNotFoundError,
    InvalidParameterError,
    UnlearnError,
)
from unlearnkit.exact import RidgeUnlearner
from unlearnkit.registry import datasets as dataset_registry
from unlearnkit.requests import ForgetRequest

TAIWAN = ("taiwan_credit_default", "UCI_Credit_Card.csv")
#: The real data root (set by conftest), captured before any test points the loaders elsewhere.
REAL_ROOT = Path(os.environ["UNLEARNKIT_DATA"])


def _real(directory: str, name: str) -> Path:
    return dataset_file(directory, name, data_dir=REAL_ROOT, download=False)


@pytest.fixture(scope="session")
def taiwan():
    return load_taiwan_credit(download=False)


@pytest.fixture(scope="session")
def adult_train():
    return load_adult("train", download=False)


@pytest.fixture(scope="session")
def adult_test():
    return load_adult("test", download=False)


@pytest.fixture(scope="session")
def fashion_train():
    return load_fashion_mnist("train", download=False)


@pytest.fixture(scope="session")
def fashion_test():
    return load_fashion_mnist("test", download=False)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty data root and cache; any real network call fails the test."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    monkeypatch.setenv("UNLEARNKIT_DATA", str(data))
    monkeypatch.setenv("UNLEARNKIT_CACHE", str(cache))

    real_urlopen = ds.urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        assert str(url).startswith("file:"), f"test tried to reach the network: {url}"
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(ds.urllib.request, "urlopen", local_only)
    return data, cache


def _with_sources(monkeypatch, key, *sources):
    monkeypatch.setitem(ds.FILES, key, dataclasses.replace(ds.FILES[key], sources=sources))


# -- Taiwan -----------------------------------------------------------------------------------
def test_taiwan_shape_names_target_ids_and_subjects(taiwan):
    assert taiwan.X.shape == (30_000, 23)
    assert list(taiwan.X.columns) == list(TAIWAN_CREDIT_FEATURES)
    assert list(taiwan.X.columns[:5]) == ["LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE"]
    assert all(dtype == np.float64 for dtype in taiwan.X.dtypes)
    assert int(taiwan.y.sum()) == 6_636  # mean 0.2212 as published
    assert set(np.unique(taiwan.y).tolist()) == {0, 1}
    assert taiwan.ids.tolist() == list(range(1, 30_001))
    assert taiwan.subjects.tolist() == taiwan.ids.tolist()
    assert taiwan.groups["sex"].value_counts().to_dict() == {"female": 18_112, "male": 11_888}
    assert (taiwan.groups["sex"] == "male").to_numpy().tolist() == (taiwan.X["SEX"] == 1).tolist()
    assert taiwan.groups["age"].tolist() == taiwan.X["AGE"].astype(int).tolist()


def test_taiwan_subject_erasure_resolves_to_that_client(taiwan):
    assert taiwan.resolve(ForgetRequest.of_subject(17)) == (17,)
    assert taiwan.resolve(ForgetRequest.group({"sex": "male", "age": 21})) == tuple(
        taiwan.ids[((taiwan.X["SEX"] == 1) & (taiwan.X["AGE"] == 21)).to_numpy()].tolist()
    )


def test_taiwan_as_frame_keeps_integer_codes(taiwan):
    raw = load_taiwan_credit(as_frame=True, download=False)
    assert list(raw.X.columns) == list(TAIWAN_CREDIT_FEATURES)
    assert raw.X["SEX"].dtype.kind == "i"
    np.testing.assert_array_equal(raw.X.to_numpy(dtype=float), taiwan.X.to_numpy())


def test_taiwan_numeric_x_fits_ridge_unlearner(taiwan):
    sub = taiwan.select(taiwan.ids[:500])
    model = RidgeUnlearner(alpha=1.0).fit(sub.X, sub.y, sample_ids=sub.ids)
    assert list(model.feature_names_in_) == list(TAIWAN_CREDIT_FEATURES)
    result = model.unlearn(ForgetRequest.of_subject(3), data=sub)
    assert result.removed_ids == (3,)


# -- Adult ------------------------------------------------------------------------------------
def test_adult_splits_shapes_targets_and_disjoint_ids(adult_train, adult_test):
    assert len(adult_train) == 32_561
    assert len(adult_test) == 16_281
    assert int(adult_train.y.sum()) == 7_841  # >50K; 24,720 <=50K
    assert int((adult_train.y == 0).sum()) == 24_720
    assert int(adult_test.y.sum()) == 3_846
    assert adult_train.ids.tolist() == list(range(32_561))
    assert adult_test.ids.tolist() == list(range(32_561, 32_561 + 16_281))
    assert adult_train.subjects is None
    assert list(adult_train.X.columns) == list(adult_test.X.columns)
    assert adult_train.groups["sex"].value_counts().to_dict() == {"Male": 21_790, "Female": 10_771}
    assert set(adult_train.groups["race"]) == set(ADULT_CATEGORIES["race"])


def test_adult_one_hot_blocks_follow_fixed_order_and_missing_is_all_zero(adult_train):
    raw = load_adult("train", as_frame=True, download=False).X
    X = adult_train.X
    assert adult_train.X.shape[1] == 6 + sum(len(c) for c in ADULT_CATEGORIES.values())
    for col, cats in ADULT_CATEGORIES.items():
        block = X[[f"{col}={c}" for c in cats]].to_numpy()
        assert list(raw[col].cat.categories) == list(cats)
        missing = raw[col].isna().to_numpy()
        np.testing.assert_array_equal(block.sum(axis=1), np.where(missing, 0.0, 1.0))
        np.testing.assert_array_equal(block.argmax(axis=1)[~missing], raw[col].cat.codes[~missing])
    assert int(raw["workclass"].isna().sum()) == 1_836  # the '?' entries
    np.testing.assert_array_equal(X["age"].to_numpy(), raw["age"].to_numpy(dtype=float))


def test_adult_bad_split_is_rejected():
    with pytest.raises(InvalidParameterError, match="'validation'"):
        load_adult("validation", download=False)


# -- COMPAS -----------------------------------------------------------------------------------
def test_compas_propublica_filter_and_groups():
    filtered = load_compas(download=False)
    full = load_compas(propublica_filter=False, download=False)
    assert len(filtered) == 6_172
    assert len(full) == 7_214
    assert round(float(full.y.mean()), 4) == 0.4507
    assert full.groups["race"].value_counts().to_dict() == {
        "African-American": 3_696,
        "Caucasian": 2_454,
        "Hispanic": 637,
        "Other": 377,
        "Asian": 32,
        "Native American": 18,
    }
    for s in (filtered, full):
        assert len(set(s.ids.tolist())) == len(s)
        assert s.subjects.tolist() == s.ids.tolist()
    assert set(filtered.ids.tolist()) < set(full.ids.tolist())
    raw = load_compas(as_frame=True, download=False).X
    assert list(raw.columns) == list(COMPAS_FEATURES)
    assert "decile_score" not in filtered.X.columns
    race = filtered.X[[c for c in filtered.X.columns if c.startswith("race=")]].to_numpy()
    np.testing.assert_array_equal(race.sum(axis=1), 1.0)


# -- German credit ----------------------------------------------------------------------------
def test_german_credit_target_groups_and_encoding():
    data = load_german_credit(download=False)
    raw = load_german_credit(as_frame=True, download=False).X
    assert len(data) == 1_000
    assert int(data.y.sum()) == 300  # class 2 = bad; 700 good
    assert data.ids.tolist() == list(range(1_000))
    assert list(raw.columns) == list(GERMAN_CREDIT_COLUMNS)
    assert data.groups["sex"].value_counts().to_dict() == {"male": 690, "female": 310}
    assert data.groups["foreign_worker"].value_counts().to_dict() == {"yes": 963, "no": 37}
    female = raw["personal_status_sex"].isin(["A92", "A95"]).to_numpy()
    assert (data.groups["sex"] == "female").to_numpy().tolist() == female.tolist()
    assert data.X["purpose=A47"].sum() == 0  # listed in german.doc, never used
    assert np.isfinite(data.X.to_numpy()).all()


# -- Fashion-MNIST ----------------------------------------------------------------------------
def test_fashion_mnist_shapes_scale_balance_and_ids(fashion_train, fashion_test):
    assert fashion_train.X.shape == (60_000, 784)
    assert fashion_test.X.shape == (10_000, 784)
    for s, per_class in ((fashion_train, 6_000), (fashion_test, 1_000)):
        assert s.X.dtype == np.float32
        assert float(s.X.min()) == 0.0
        assert float(s.X.max()) == 1.0
        assert np.bincount(s.y).tolist() == [per_class] * 10
    assert fashion_train.ids.tolist() == list(range(60_000))
    assert fashion_test.ids.tolist() == list(range(60_000, 70_000))
    names = fashion_test.groups["label_name"].to_numpy()
    assert names.tolist() == [FASHION_MNIST_CLASSES[k] for k in fashion_test.y]


def test_fashion_mnist_uint8_matches_scaled(fashion_test):
    raw = load_fashion_mnist("test", scale=False, download=False)
    assert raw.X.dtype == np.uint8
    np.testing.assert_array_equal(raw.X, np.rint(fashion_test.X * 255).astype(np.uint8))
    np.testing.assert_array_equal(raw.y, fashion_test.y)


def test_fashion_mnist_accepts_a_regzipped_copy_by_content_hash(tmp_path):
    key = ("fashion-mnist", "t10k-labels-idx1-ubyte.gz")
    content = gzip.decompress(_real(*key).read_bytes())
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    copy = folder / key[1]
    copy.write_bytes(gzip.compress(content, compresslevel=1, mtime=0))
    assert hashlib.sha256(copy.read_bytes()).hexdigest() != ds.FILES[key].sha256
    assert dataset_file(*key, data_dir=tmp_path, download=False) == copy
    copy.write_bytes(gzip.compress(content[:-1] + b"\x09", mtime=0))
    with pytest.raises(ChecksumMismatchError, match="decompressed content"):
        dataset_file(*key, data_dir=tmp_path, download=False)


# -- registry ---------------------------------------------------------------------------------
def test_every_loader_is_registered():
    assert {"taiwan_credit", "adult", "compas", "german_credit", "fashion_mnist"} <= set(
        dataset_registry.names()
    )
    assert dataset_registry.get("adult") is load_adult
    assert len(load_dataset("german_credit", download=False)) == 1_000
    with pytest.raises(InvalidParameterError, match="movielens"):
        load_dataset("movielens")


# -- checksums --------------------------------------------------------------------------------
def test_tampered_copy_raises_checksum_mismatch(tmp_path):
    folder = tmp_path / TAIWAN[0]
    folder.mkdir()
    copy = folder / TAIWAN[1]
    data = bytearray(_real(*TAIWAN).read_bytes())
    data[200] = ord("9") if data[200] != ord("9") else ord("8")
    copy.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatchError) as info:
        load_taiwan_credit(data_dir=tmp_path, download=False)
    message = str(info.value)
    assert str(copy) in message
    assert ds.FILES[TAIWAN].sha256 in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    assert "delete it" in message
    assert isinstance(info.value, UnlearnError)


def test_file_changed_after_verification_is_checked_again(tmp_path):
    folder = tmp_path / TAIWAN[0]
    folder.mkdir()
    copy = folder / TAIWAN[1]
    shutil.copyfile(_real(*TAIWAN), copy)
    assert dataset_file(*TAIWAN, data_dir=tmp_path, download=False) == copy
    with copy.open("ab") as fh:
        fh.write(b"30001,1,2,3\n")
    with pytest.raises(ChecksumMismatchError):
        dataset_file(*TAIWAN, data_dir=tmp_path, download=False)


def test_a_file_is_hashed_once_per_process(tmp_path, monkeypatch):
    folder = tmp_path / "german_credit"
    folder.mkdir()
    shutil.copyfile(_real("german_credit", "german.data"), folder / "german.data")
    calls = []
    real = ds._sha256_file
    monkeypatch.setattr(ds, "_sha256_file", lambda p: calls.append(p) or real(p))
    for _ in range(3):
        dataset_file("german_credit", "german.data", data_dir=tmp_path, download=False)
    assert len(calls) == 1


# -- where files are looked for ---------------------------------------------------------------
def test_missing_file_lists_places_and_remedies(isolated, monkeypatch):
    data, cache = isolated
    monkeypatch.setattr(
        ds.urllib.request, "urlopen", lambda *a, **k: pytest.fail("download=False fetched")
    )
    with pytest.raises(DatasetNotFoundError) as info:
        load_taiwan_credit(download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(data / TAIWAN[0] / TAIWAN[1]) in message
    assert str(cache / TAIWAN[0] / TAIWAN[1]) in message
    assert "download=False" in message
    assert "UNLEARNKIT_DATA" in message
    assert "raw.githubusercontent.com/fju155447/uci" in message


def test_missing_fashion_mnist_mentions_the_debian_package(isolated, monkeypatch, tmp_path):
    key = ("fashion-mnist", "t10k-images-idx3-ubyte.gz")
    empty = tmp_path / "system"
    monkeypatch.setitem(
        ds.FILES, key, dataclasses.replace(ds.FILES[key], system_dirs=(str(empty),))
    )
    with pytest.raises(DatasetNotFoundError, match="dataset-fashion-mnist") as info:
        load_fashion_mnist("test", download=False)
    assert str(empty / key[1]) in str(info.value)


def test_system_dir_is_searched_after_the_cache(isolated, monkeypatch, tmp_path):
    key = ("fashion-mnist", "t10k-labels-idx1-ubyte.gz")
    system = tmp_path / "usr-share"
    system.mkdir()
    shutil.copyfile(_real(*key), system / key[1])
    monkeypatch.setitem(
        ds.FILES, key, dataclasses.replace(ds.FILES[key], system_dirs=(str(system),))
    )
    assert dataset_file(*key, download=False) == system / key[1]
    _, cache = isolated
    (cache / key[0]).mkdir(parents=True)
    shutil.copyfile(_real(*key), cache / key[0] / key[1])
    assert dataset_file(*key, download=False) == cache / key[0] / key[1]


def test_default_roots_are_parent_shared_then_local_shared(tmp_path, monkeypatch):
    monkeypatch.delenv("UNLEARNKIT_DATA", raising=False)
    monkeypatch.setenv("UNLEARNKIT_CACHE", str(tmp_path / "cache"))
    assert data_dirs() == [Path("../shared/data"), Path("shared/data")]
    assert data_dirs(tmp_path) == [tmp_path]
    source = _real("german_credit", "german.data")
    work = tmp_path / "project" / "repo"
    local = work / "shared" / "data" / "german_credit"
    parent = tmp_path / "project" / "shared" / "data" / "german_credit"
    local.mkdir(parents=True)
    shutil.copyfile(source, local / "german.data")
    monkeypatch.chdir(work)
    assert dataset_file("german_credit", "german.data", download=False).resolve() == (
        local / "german.data"
    )
    parent.mkdir(parents=True)
    shutil.copyfile(source, parent / "german.data")
    assert dataset_file("german_credit", "german.data", download=False).resolve() == (
        parent / "german.data"
    )


def test_env_var_replaces_the_default_roots(tmp_path, monkeypatch):
    monkeypatch.setenv("UNLEARNKIT_DATA", str(tmp_path / "elsewhere"))
    assert data_dirs() == [tmp_path / "elsewhere"]


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("UNLEARNKIT_CACHE", str(tmp_path / "c1"))
    assert cache_dir() == tmp_path / "c1"
    monkeypatch.delenv("UNLEARNKIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "unlearnkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "unlearnkit"


def test_unknown_dataset_file_is_a_parameter_error():
    with pytest.raises(InvalidParameterError, match=r"nope\.csv"):
        dataset_file("adult", "nope.csv")


# -- download ---------------------------------------------------------------------------------
def test_download_goes_to_the_cache_and_is_reused(isolated, monkeypatch):
    _, cache = isolated
    _with_sources(monkeypatch, TAIWAN, Source(_real(*TAIWAN).as_uri()))
    data = load_taiwan_credit()
    cached = cache / TAIWAN[0] / TAIWAN[1]
    assert cached.is_file()
    assert len(data) == 30_000
    assert [p.name for p in cached.parent.iterdir()] == [TAIWAN[1]]  # no partial files left
    _with_sources(monkeypatch, TAIWAN, Source((cache / "gone.csv").as_uri()))
    assert dataset_file(*TAIWAN) == cached


def test_download_uses_a_short_timeout(isolated, monkeypatch):
    payload = _real(*TAIWAN).read_bytes()
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append((url, timeout))
        return contextlib.closing(io.BytesIO(payload))

    monkeypatch.setattr(ds.urllib.request, "urlopen", fake_urlopen)
    path = dataset_file(*TAIWAN)
    assert path.read_bytes() == payload
    assert calls == [(ds.FILES[TAIWAN].sources[0].url, ds.DOWNLOAD_TIMEOUT)]
    assert 0 < ds.DOWNLOAD_TIMEOUT <= 30


def test_failed_download_raises_not_found_with_the_reason(isolated, monkeypatch, tmp_path):
    missing = (tmp_path / "nowhere.csv").as_uri()
    _with_sources(monkeypatch, TAIWAN, Source(missing))
    with pytest.raises(DatasetNotFoundError, match=r"nowhere\.csv") as info:
        load_taiwan_credit()
    assert "failed" in str(info.value)


def test_download_with_wrong_bytes_saves_nothing(isolated, monkeypatch, tmp_path):
    _, cache = isolated
    wrong = tmp_path / "wrong.csv"
    wrong.write_bytes(_real(*TAIWAN).read_bytes()[:-10])
    _with_sources(monkeypatch, TAIWAN, Source(wrong.as_uri()))
    with pytest.raises(ChecksumMismatchError, match="Nothing was saved"):
        load_taiwan_credit()
    folder = cache / TAIWAN[0]
    assert not folder.exists() or not any(folder.iterdir())


def test_adult_download_falls_back_and_restores_the_uci_layout(isolated, monkeypatch, tmp_path):
    """The GitHub copy has a header line instead of UCI's first line and lost the blank end."""
    for name in ("adult.data", "adult.test"):
        key = ("adult", name)
        original = _real(*key).read_bytes()
        body = original.split(b"\n", 1)[1] if name == "adult.test" else original
        github = b"age, workclass, ..., native-country, Y\n" + body[:-1]
        copy = tmp_path / f"github-{name}"
        copy.write_bytes(github)
        gh = ds.FILES[key].sources[1]
        assert gh.restore is not None
        _with_sources(
            monkeypatch,
            key,
            Source((tmp_path / "uci-down").as_uri()),
            dataclasses.replace(gh, url=copy.as_uri()),
        )
    train, test = load_adult("train"), load_adult("test")
    assert (len(train), len(test)) == (32_561, 16_281)
    _, cache = isolated
    for name in ("adult.data", "adult.test"):
        assert (cache / "adult" / name).read_bytes() == _real("adult", name).read_bytes()


def test_loaded_frames_do_not_alias_between_calls():
    a = load_german_credit(download=False)
    a.X.iloc[0, 0] = -1.0
    b = load_german_credit(download=False)
    assert b.X.iloc[0, 0] != -1.0
    assert isinstance(b.X, pd.DataFrame)


def test_docstring_examples_run():
    result = doctest.testmod(ds, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10
    assert result.failed == 0
