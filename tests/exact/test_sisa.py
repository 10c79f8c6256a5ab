"""SISA: unlearning equals retraining, slices resume from checkpoints, bad input is refused."""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, SGDClassifier, SGDRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from unlearnkit.backends import JobError, LocalBackend
from unlearnkit.checks import (
    assert_same_model,
    check_unlearner,
    check_unlearning_equivalence,
    make_check_data,
)
from unlearnkit.errors import (
    DataValidationError,
    InvalidParameterError,
    UnknownIdError,
)
from unlearnkit.exact import SISAClassifier, SISARegressor
from unlearnkit.exact.sisa import (
    MLP,
    CheckpointCorruptedError,
    CheckpointError,
    NondeterministicModelWarning,
    TorchClassifier,
    TorchRegressor,
    TorchTraining,
)
from unlearnkit.exact.sisa import ensemble as sisa_ensemble
from unlearnkit.persistence import load

os.environ.setdefault("OMP_NUM_THREADS", "1")
torch = pytest.importorskip("torch")
torch.set_num_threads(1)

SMALL_TORCH = TorchTraining(epochs=2, batch_size=16, lr=1e-2)


def blobs(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = make_check_data("classification", seed, n=n)
    assert y is not None
    ids = np.random.default_rng(seed).permutation(n) * 3 + 100
    return X, y, ids


# -- exactness ------------------------------------------------------------------------------
def test_classifier_passes_every_check():
    check_unlearner(SISAClassifier(n_shards=3))


@pytest.mark.parametrize("aggregation", ["vote", "weighted"])
def test_every_aggregation_is_exact(aggregation):
    check_unlearning_equivalence(SISAClassifier(n_shards=3, aggregation=aggregation), rtol=0)


@pytest.mark.parametrize("aggregation", ["mean", "weighted"])
def test_regressor_passes_every_check(aggregation):
    check_unlearner(SISARegressor(n_shards=3, aggregation=aggregation))


def test_trees_with_unfixed_seed_get_shard_seeds():
    check_unlearning_equivalence(SISAClassifier(DecisionTreeClassifier(), n_shards=4), rtol=0)
    check_unlearning_equivalence(SISARegressor(DecisionTreeRegressor(), n_shards=4), rtol=0)


@pytest.mark.parametrize("n_slices", [1, 4])
def test_sliced_partial_fit_models_are_exact(n_slices):
    check_unlearning_equivalence(
        SISAClassifier(SGDClassifier(loss="log_loss"), n_shards=3, n_slices=n_slices, epochs=3),
        rtol=0,
        atol=0,
    )
    check_unlearning_equivalence(
        SISARegressor(SGDRegressor(), n_shards=3, n_slices=n_slices, epochs=2), rtol=0, atol=0
    )


def test_torch_models_are_exact_bit_for_bit():
    X, y = make_check_data("classification", 1, n=60)
    check_unlearning_equivalence(
        SISAClassifier(TorchClassifier(MLP((8,)), training=SMALL_TORCH), n_shards=2, n_slices=3),
        X,
        y,
        rtol=0,
        atol=0,
    )
    Xr, yr = make_check_data("regression", 1, n=60)
    check_unlearning_equivalence(
        SISARegressor(MLP((4,)), n_shards=2, n_slices=2, epochs=2), Xr, yr, rtol=0, atol=0
    )


def test_a_bare_module_factory_is_wrapped():
    X, y, ids = blobs(60)
    model = SISAClassifier(MLP((4,)), n_shards=2, epochs=1).fit(X, y, sample_ids=ids)
    assert all(isinstance(m, TorchClassifier) for m in model.estimators_)
    assert model.predict(X).shape == (60,)


# -- slicing and cost -----------------------------------------------------------------------
def sliced(n_slices: int = 4, **kw) -> SISAClassifier:
    return SISAClassifier(SGDClassifier(loss="log_loss"), n_slices=n_slices, epochs=3, **kw)


def test_unlearning_resumes_from_the_checkpoint_before_the_earliest_slice():
    X, y, ids = blobs(200)
    model = sliced(n_shards=2, random_state=3).fit(X, y, sample_ids=ids)
    shard, slice_ = model._shard_of_row, model._slice_of_row
    late = int(ids[np.flatnonzero((shard == 0) & (slice_ == 3))[0]])
    early = int(ids[np.flatnonzero((shard == 0) & (slice_ == 0))[0]])
    late_result = model.unlearn([late])
    assert late_result.evidence["shards_retrained"] == [0]
    assert late_result.evidence["first_slice"] == {0: 3}
    early_result = model.unlearn([early])
    assert early_result.evidence["first_slice"] == {0: 0}
    assert 0 < late_result.retrained_fraction < early_result.retrained_fraction < 0.6
    # the reported share is the rows processed in retraining over those of a full fit
    alive = model._store.alive
    in_shard = model._slice_of_row[alive & (model._shard_of_row == 0)]
    passes = model._passes
    redone = passes * np.bincount(in_shard, minlength=4).cumsum().sum()
    total = passes * sum(
        np.bincount(model._slice_of_row[alive & (model._shard_of_row == s)], minlength=4)
        .cumsum()
        .sum()
        for s in range(2)
    )
    assert early_result.retrained_fraction == pytest.approx(redone / total)


def test_retrained_fraction_of_full_shard_retraining():
    X, y, ids = blobs(120)
    model = SISAClassifier(n_shards=4).fit(X, y, sample_ids=ids)
    target = int(ids[5])
    shard = model._shard_of_row[5]
    result = model.unlearn([target])
    assert result.retrained_fraction == pytest.approx(model.shard_sizes_[shard] / 119)
    assert result.evidence["shards_retrained"] == [int(shard)]


class CountingLogistic(ClassifierMixin, BaseEstimator):
    """Logistic regression that counts how often any copy of it is fitted."""

    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_batched_deletions_retrain_each_affected_shard_once():
    X, y, ids = blobs(200)
    model = SISAClassifier(CountingLogistic(), n_shards=5).fit(X, y, sample_ids=ids)
    forget = ids[:15].tolist()
    affected = set(model._shard_of_row[:15].tolist())
    CountingLogistic.fits = 0
    result = model.unlearn(forget)
    assert CountingLogistic.fits == len(affected)
    assert result.evidence["shards_retrained"] == sorted(affected)
    CountingLogistic.fits = 0
    one_by_one = SISAClassifier(CountingLogistic(), n_shards=5).fit(X, y, sample_ids=ids)
    CountingLogistic.fits = 0
    for i in forget:
        one_by_one.unlearn([i])
    assert CountingLogistic.fits == 15
    assert_same_model(model, one_by_one, X)


def test_deletion_probability_groups_likely_deletions():
    X, y, ids = blobs(200)
    p = np.where(np.arange(200) % 10 == 0, 0.9, 0.01)
    params = {"n_shards": 5, "hot_shards": 1}
    model = SISAClassifier(**params).fit(X, y, sample_ids=ids, deletion_probability=p)
    assert set(model._shard_of_row[p >= 0.5].tolist()) == {0}
    assert 0 not in set(model._shard_of_row[p < 0.5].tolist())
    hot = ids[p >= 0.5][:5].tolist()
    result = model.unlearn(hot)
    assert result.evidence["shards_retrained"] == [0]
    assert result.retrained_fraction < 0.15
    keep = ~np.isin(ids, hot)
    retrained = SISAClassifier(**params).fit(
        X[keep], y[keep], sample_ids=ids[keep], deletion_probability=p[keep]
    )
    assert_same_model(model, retrained, X)


def test_shards_emptied_by_deletions_drop_out():
    X, y, ids = blobs(60)
    model = SISAClassifier(n_shards=4, aggregation="weighted").fit(X, y, sample_ids=ids)
    shard_rows = np.flatnonzero(model._shard_of_row == 2)
    result = model.unlearn(ids[shard_rows].tolist())
    assert model.shard_sizes_[2] == 0
    assert model.estimators_[2] is None
    assert model.shard_fingerprints_[2] == ""
    assert result.evidence["shards_retrained"] == [2]
    keep = np.setdiff1d(np.arange(60), shard_rows)
    retrained = SISAClassifier(n_shards=4, aggregation="weighted").fit(
        X[keep], y[keep], sample_ids=ids[keep]
    )
    assert_same_model(model, retrained, X)
    assert model.score(X, y) > 0.5


def test_single_class_shard_votes_its_label():
    X, y, ids = blobs(60)
    y = np.where(np.arange(60) < 3, 1, 0)
    model = SISAClassifier(n_shards=5).fit(X, y, sample_ids=ids)
    assert model.predict_proba(X).shape == (60, 2)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_classes_request_retrains_every_shard():
    X, y, ids = blobs(90)
    model = SISAClassifier(n_shards=3).fit(X, y, sample_ids=ids)
    from unlearnkit.requests import ForgetRequest

    result = model.unlearn(ForgetRequest.classes([2]))
    assert result.retrained_fraction == pytest.approx(1.0)
    assert model.classes_.tolist() == [0, 1]
    assert model.predict_proba(X).shape == (90, 2)


def test_partial_fit_adds_rows_like_a_fit_on_all_rows():
    X, y, ids = blobs(120)
    model = sliced(n_shards=3).fit(X[:100], y[:100], sample_ids=ids[:100])
    model.partial_fit(X[100:], y[100:], sample_ids=ids[100:])
    assert_same_model(model, sliced(n_shards=3).fit(X, y, sample_ids=ids), X, rtol=0, atol=0)


def test_process_pool_gives_the_same_model_as_in_process():
    X, y, ids = blobs(120)
    here = sliced(n_shards=3).fit(X, y, sample_ids=ids)
    pool = sliced(n_shards=3, backend=LocalBackend(n_jobs=2)).fit(X, y, sample_ids=ids)
    assert here.fingerprint() == pool.fingerprint()
    here.unlearn(ids[:7].tolist())
    pool.unlearn(ids[:7].tolist())
    assert here.fingerprint() == pool.fingerprint()


# -- persistence ----------------------------------------------------------------------------
def ckpt_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*.ckpt")}


def test_save_and_load_with_checkpoint_files(tmp_path):
    X, y, ids = blobs(120)
    model = sliced(n_shards=3, checkpoint_dir=tmp_path / "ckpt").fit(X, y, sample_ids=ids)
    assert len(ckpt_files(tmp_path / "ckpt")) == 3 * 4
    path = model.save(tmp_path / "model.ukit")
    loaded = SISAClassifier.load(path)
    assert loaded.fingerprint() == model.fingerprint()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    loaded.unlearn(ids[:3].tolist())
    model.unlearn(ids[:3].tolist())
    assert loaded.fingerprint() == model.fingerprint()


def test_checkpoints_replaced_by_unlearning_go_when_the_model_is_saved(tmp_path):
    X, y, ids = blobs(120)
    root = tmp_path / "ckpt"
    model = sliced(n_shards=3, checkpoint_dir=root).fit(X, y, sample_ids=ids)
    path = model.save(tmp_path / "model.ukit")
    before = ckpt_files(root)
    original = model.predict_proba(X)
    model.unlearn(ids[:2].tolist())
    # the process could die here: the file saved before still loads, with intact checkpoints
    assert before <= ckpt_files(root)
    old = load(path)
    old.verify_checkpoints()
    np.testing.assert_array_equal(old.predict_proba(X), original)
    model.save(path)
    live = {Path(c.path) for shard in model._checkpoints for c in shard}
    assert ckpt_files(root) == live
    assert load(path).fingerprint() == model.fingerprint()


def test_unsaved_model_deletes_replaced_checkpoints_at_once(tmp_path):
    X, y, ids = blobs(120)
    root = tmp_path / "ckpt"
    model = sliced(n_shards=3, checkpoint_dir=root).fit(X, y, sample_ids=ids)
    model.unlearn(ids[:2].tolist())
    live = {Path(c.path) for shard in model._checkpoints for c in shard}
    assert ckpt_files(root) == live


def test_corrupted_checkpoint_is_detected(tmp_path):
    X, y, ids = blobs(120)
    root = tmp_path / "ckpt"
    model = sliced(n_shards=3, checkpoint_dir=root).fit(X, y, sample_ids=ids)
    path = model.save(tmp_path / "model.ukit")
    victim = sorted(ckpt_files(root))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(CheckpointCorruptedError, match="is corrupted: its SHA-256"):
        load(path)
    with pytest.raises(CheckpointCorruptedError):
        model.verify_checkpoints()
    victim.unlink()
    with pytest.raises(CheckpointCorruptedError, match="Cannot read checkpoint"):
        model.verify_checkpoints()


def test_corrupted_checkpoint_stops_unlearning_and_changes_nothing(tmp_path):
    X, y, ids = blobs(120)
    root = tmp_path / "ckpt"
    model = sliced(n_shards=2, checkpoint_dir=root, random_state=1).fit(X, y, sample_ids=ids)
    row = int(np.flatnonzero(model._slice_of_row == 3)[0])
    shard = int(model._shard_of_row[row])
    victim = Path(model._checkpoints[shard][2].path)
    victim.write_bytes(b"tampered")
    before = model.fingerprint()
    with pytest.raises(CheckpointCorruptedError):
        model.unlearn([int(ids[row])])
    assert model.fingerprint() == before
    assert int(ids[row]) in model.sample_ids_.tolist()


def failing_train(job):
    if job.shard == 1:
        raise RuntimeError("worker lost")
    return sisa_ensemble.__dict__["_real_train"](job)


def test_crash_while_retraining_leaves_model_and_files_as_they_were(tmp_path, monkeypatch):
    X, y, ids = blobs(150)
    root = tmp_path / "ckpt"
    model = sliced(n_shards=3, checkpoint_dir=root).fit(X, y, sample_ids=ids)
    path = model.save(tmp_path / "model.ukit")
    files, before = ckpt_files(root), model.fingerprint()
    monkeypatch.setitem(sisa_ensemble.__dict__, "_real_train", sisa_ensemble.train_shard)
    monkeypatch.setattr(sisa_ensemble, "train_shard", failing_train)
    forget = [int(i) for i, s in zip(ids, model._shard_of_row, strict=True) if s in (0, 1)][:6]
    with pytest.raises(JobError, match="worker lost"):
        model.unlearn(forget)
    assert model.fingerprint() == before
    assert ckpt_files(root) == files
    assert load(path).fingerprint() == before


def test_failed_checkpoint_write_removes_the_new_files(tmp_path, monkeypatch):
    X, y, ids = blobs(150)
    root = tmp_path / "ckpt"
    model = sliced(n_shards=3, checkpoint_dir=root).fit(X, y, sample_ids=ids)
    files, before = ckpt_files(root), model.fingerprint()
    real_put = sisa_ensemble.CheckpointStore.put
    calls = []

    def put_then_fail(self, data, shard, slice_):
        calls.append(shard)
        if len(calls) == 3:
            raise CheckpointError("disk full")
        return real_put(self, data, shard, slice_)

    monkeypatch.setattr(sisa_ensemble.CheckpointStore, "put", put_then_fail)
    with pytest.raises(CheckpointError, match="disk full"):
        model.unlearn(ids[:30].tolist())
    assert model.fingerprint() == before
    assert ckpt_files(root) == files


def test_in_memory_checkpoints_survive_pickling():
    X, y, ids = blobs(90)
    model = sliced(n_shards=2).fit(X, y, sample_ids=ids)
    copy = pickle.loads(pickle.dumps(model))
    copy.unlearn(ids[:4].tolist())
    model.unlearn(ids[:4].tolist())
    assert copy.fingerprint() == model.fingerprint()


# -- bad input ------------------------------------------------------------------------------
def test_more_shards_than_samples_keeps_the_fitted_model():
    X, y, ids = blobs(30)
    model = SISAClassifier(n_shards=3).fit(X, y, sample_ids=ids)
    before = model.fingerprint()
    model.set_params(n_shards=40)
    with pytest.raises(DataValidationError, match=r"n_shards=40 .*n_samples=30"):
        model.fit(X, y, sample_ids=ids)
    assert model.fingerprint() == before


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_slices": 0}, "n_slices"),
        ({"n_shards": 0}, "n_shards"),
        ({"aggregation": "median"}, "aggregation"),
        ({"backend": "spark"}, "backend"),
        ({"hot_threshold": 0.0}, "hot_threshold"),
        ({"estimator": "tree"}, "estimator"),
    ],
)
def test_bad_parameters(params, match):
    X, y, ids = blobs(30)
    with pytest.raises(InvalidParameterError, match=match):
        SISAClassifier(**params).fit(X, y, sample_ids=ids)


class Unclonable(ClassifierMixin, BaseEstimator):
    def __init__(self, C=1.0):
        self.C = C
        self.extra = object()

    def get_params(self, deep=True):
        return {"C": self.C, "other": 1}

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_estimator_that_cannot_be_cloned():
    X, y, ids = blobs(30)
    with pytest.raises(InvalidParameterError, match="cannot be cloned"):
        SISAClassifier(Unclonable(), aggregation="vote").fit(X, y, sample_ids=ids)


def test_wrong_kind_of_estimator_or_aggregation():
    X, y, _ids = blobs(30)
    with pytest.raises(InvalidParameterError, match="needs a classifier"):
        SISAClassifier(DecisionTreeRegressor()).fit(X, y)
    with pytest.raises(InvalidParameterError, match="needs a regressor"):
        SISARegressor(LogisticRegression()).fit(X, y.astype(float))
    with pytest.raises(InvalidParameterError, match="aggregation='vote' is not available"):
        SISARegressor(aggregation="vote").fit(X, y.astype(float))
    with pytest.raises(InvalidParameterError, match="no predict_proba"):
        SISAClassifier(SGDClassifier()).fit(X, y)
    SISAClassifier(SGDClassifier(), aggregation="vote", n_shards=2).fit(X, y)
    with pytest.raises(DataValidationError, match="continuous"):
        SISAClassifier().fit(X, X[:, 0])


def test_bad_deletion_probabilities():
    X, y, _ids = blobs(30)
    with pytest.raises(DataValidationError, match="deletion_probability"):
        SISAClassifier().fit(X, y, deletion_probability=np.full(30, 1.5))
    with pytest.raises(DataValidationError, match="deletion_probability"):
        SISAClassifier().fit(X, y, deletion_probability=np.full(29, 0.5))
    with pytest.raises(InvalidParameterError, match="hot_shards=2"):
        SISAClassifier(n_shards=2, hot_shards=2).fit(X, y, deletion_probability=np.zeros(30))


def test_unknown_ids_change_nothing():
    X, y, ids = blobs(30)
    model = SISAClassifier(n_shards=3).fit(X, y, sample_ids=ids)
    before = model.fingerprint()
    with pytest.raises(UnknownIdError):
        model.unlearn([int(ids[0]), -5])
    assert model.fingerprint() == before


def test_checkpoint_dir_that_is_not_writable(tmp_path):
    X, y, ids = blobs(30)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(CheckpointError, match="is not writable"):
        sliced(n_shards=2, checkpoint_dir=blocker / "ckpt").fit(X, y)
    model = sliced(n_shards=2, checkpoint_dir=tmp_path / "ok").fit(X, y, sample_ids=ids)
    before = model.fingerprint()
    model.set_params(checkpoint_dir=blocker / "ckpt")
    with pytest.raises(CheckpointError):
        model.fit(X, y, sample_ids=ids)
    assert model.fingerprint() == before


class ExternallySeeded:
    """A module factory that draws its weights from a fresh, unseeded generator."""

    def __call__(self, n_in, n_out):
        layer = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            layer.weight.copy_(
                torch.randn(
                    n_out,
                    n_in,
                    generator=torch.Generator().manual_seed(
                        int.from_bytes(os.urandom(4), "little")
                    ),
                )
            )
        return layer


def test_nondeterministic_factory_warns():
    X, y, ids = blobs(40)
    with pytest.warns(NondeterministicModelWarning, match="in distribution only"):
        model = SISAClassifier(
            TorchClassifier(ExternallySeeded(), training=SMALL_TORCH), n_shards=2
        ).fit(X, y, sample_ids=ids)
    assert model.unlearn(ids[:2].tolist()).evidence["deterministic"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error", NondeterministicModelWarning)
        SISAClassifier(TorchClassifier(MLP((4,)), training=SMALL_TORCH), n_shards=2).fit(X, y)


def test_torch_regressor_multi_output():
    X, _ = make_check_data("regression", 0, n=80)
    Y = np.stack([X[:, 0], X[:, 1] - X[:, 2]], axis=1)
    reg = TorchRegressor(MLP(()), training=TorchTraining(epochs=30, lr=5e-2)).fit(X, Y)
    assert reg.predict(X).shape == (80, 2)
    assert reg.score(X, Y) > 0.9


def test_rows_added_after_a_deletion_aware_fit_go_to_cold_shards():
    X, y, ids = blobs(150)
    p = np.where(np.arange(150) % 5 == 0, 0.8, 0.0)
    model = SISAClassifier(n_shards=4, hot_shards=1).fit(
        X[:120], y[:120], sample_ids=ids[:120], deletion_probability=p[:120]
    )
    model.partial_fit(X[120:], y[120:], sample_ids=ids[120:])
    assert set(model._shard_of_row[120:].tolist()) <= {1, 2, 3}
    assert model.shard_sizes_.sum() == 150


@parametrize_with_checks(
    [SISAClassifier(SGDClassifier(loss="log_loss"), n_shards=2, n_slices=3, epochs=2)]
)
def test_sliced_ensemble_passes_sklearn_checks(estimator, check):
    check(estimator)


def test_string_ids_place_and_forget_like_integer_ids():
    X, y, _ = blobs(90)
    ids = np.asarray([f"client-{i:03d}" for i in range(90)], dtype=object)
    model = SISAClassifier(n_shards=3).fit(X, y, sample_ids=ids)
    model.unlearn(["client-004", "client-050"])
    keep = ~np.isin(ids, ["client-004", "client-050"])
    assert_same_model(
        model, SISAClassifier(n_shards=3).fit(X[keep], y[keep], sample_ids=ids[keep]), X
    )
