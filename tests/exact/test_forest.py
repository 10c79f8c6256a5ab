"""DaRE forests: exact deletion, additions, relabelling, attribute and class removal."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import unlearnkit.exact.forest._store as _store_module
import unlearnkit.exact.forest.forest as forest_module
from unlearnkit.checks import check_unlearner, make_check_data
from unlearnkit.errors import (
    AlreadyForgottenError,
    DataValidationError,
    DuplicateIdError,
    EmptiesClassError,
    InvalidParameterError,
    InvalidRequestError,
    SupersededStateError,
    UnknownIdError,
)
from unlearnkit.exact import DaREForestClassifier, DaREForestRegressor
from unlearnkit.persistence import load
from unlearnkit.registry import methods
from unlearnkit.requests import ForgetRequest

TREE_FIELDS = (
    "feature",
    "threshold",
    "children_left",
    "children_right",
    "n_node_samples",
    "value",
)


@pytest.fixture
def incremental(monkeypatch):
    """Serve every request by updating the trees (no full retrain for large requests)."""
    monkeypatch.setattr(forest_module, "REFIT_FRACTION", 100.0)


def assert_same_forest(a, b, X):
    """Same trees (splits, thresholds, counts, leaf values) and the same predictions."""
    assert np.array_equal(a.tree_digests_, b.tree_digests_)
    for ta, tb in zip(a.estimators_, b.estimators_, strict=True):
        for name in TREE_FIELDS:
            assert np.array_equal(getattr(ta, name), getattr(tb, name)), name
    if hasattr(b, "predict_proba"):
        assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    assert np.array_equal(a.predict(X), b.predict(X))


def retrain(model, X, y, keep):
    keep = np.asarray(sorted(keep))
    return clone(model).fit(X[keep], y[keep], sample_ids=keep)


# -- data with ties, duplicates and constant columns -----------------------------------------
def _dataset(kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, bool]:
    rng = np.random.default_rng(seed)
    n = 150
    if kind == "continuous":
        X = rng.normal(size=(n, 4))
    elif kind == "integers":  # many ties
        X = rng.integers(0, 5, size=(n, 4)).astype(float)
    elif kind == "binary":
        X = rng.integers(0, 2, size=(n, 5)).astype(float)
    elif kind == "duplicates":  # repeated rows and a duplicated, a constant column
        base = np.round(rng.normal(size=(n // 3, 2)), 1)
        X = np.repeat(base, 3, axis=0)
        X = np.column_stack([X, X[:, 0], np.full(len(X), 2.5)])
    else:
        raise ValueError(kind)
    score = X[:, 0] - X[:, 1] + rng.normal(scale=0.7, size=len(X))
    y_class = np.digitize(score, np.quantile(score, [0.4, 0.75]))
    return X, y_class, False


DATASETS = ["continuous", "integers", "binary", "duplicates"]
CONFIGS = [
    pytest.param({"k": None}, id="all-thresholds"),
    pytest.param({"k": 2}, id="k2"),
    pytest.param({"k": None, "max_features": None, "criterion": "entropy"}, id="entropy-all"),
    pytest.param({"k": 2, "criterion": "entropy"}, id="entropy-k2"),
]


def _model(cls, **params):
    base = {"n_estimators": 6, "max_depth": 6, "random_state": 3}
    base.update(params)
    return cls(**base)


# -- the contract -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "estimator",
    [
        DaREForestClassifier(n_estimators=5, k=None, random_state=0),
        DaREForestClassifier(n_estimators=5, k=3, max_features=None, random_state=1),
        DaREForestRegressor(n_estimators=5, k=None, random_state=0),
        DaREForestRegressor(n_estimators=5, k=4, max_features="sqrt", random_state=2),
    ],
    ids=["clf-all", "clf-k3", "reg-all", "reg-k4"],
)
def test_check_unlearner(estimator):
    check_unlearner(estimator)


def test_check_unlearner_with_incremental_requests(incremental):
    """Also with classes / groups / relabels served by updating the trees, not by a refit."""
    for est in (
        DaREForestClassifier(n_estimators=4, k=None, max_features=None, random_state=0),
        DaREForestRegressor(n_estimators=4, k=3, random_state=0),
    ):
        X, y = make_check_data(est.check_data_kind, 5, n=100, d=4)
        check_unlearner(est, X, y)


def test_registered():
    assert methods.get("dare_forest_classifier").cls is DaREForestClassifier
    assert methods.get("dare_forest_regressor").cls is DaREForestRegressor
    assert str(methods.get("dare_forest_classifier").guarantee) == "exact"
    assert "classes" in methods.get("dare_forest_classifier").request_kinds


# -- equivalence with retraining --------------------------------------------------------------
@pytest.mark.parametrize("params", CONFIGS)
@pytest.mark.parametrize("kind", DATASETS)
def test_deletions_equal_retraining(kind, params, incremental):
    X, y, _ = _dataset(kind)
    model = _model(DaREForestClassifier, **params).fit(X, y)
    rng = np.random.default_rng(1)
    kept = set(range(len(X)))
    for size in (1, 3, 12):
        forget = rng.choice(sorted(kept), size=size, replace=False).tolist()
        result = model.unlearn(forget)
        kept -= set(forget)
        assert str(result.guarantee) == "exact"
        assert 0.0 <= result.retrained_fraction <= 1.0
        assert_same_forest(model, retrain(model, X, y, kept), X)


@pytest.mark.parametrize("params", [{"k": None}, {"k": 3, "max_features": "sqrt"}])
@pytest.mark.parametrize("kind", ["continuous", "integers", "duplicates"])
def test_regressor_deletions_equal_retraining(kind, params, incremental):
    X, _, _ = _dataset(kind, seed=4)
    y = np.round(X[:, 0] * 3 + X[:, 1] ** 2, 1)  # ties in the targets too
    model = _model(DaREForestRegressor, **params).fit(X, y)
    rng = np.random.default_rng(2)
    kept = set(range(len(X)))
    for size in (1, 5, 15):
        forget = rng.choice(sorted(kept), size=size, replace=False).tolist()
        model.unlearn(forget)
        kept -= set(forget)
        assert_same_forest(model, retrain(model, X, y, kept), X)


def _near_tied(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Four noisy copies of one binary signal: which copy splits best flips as rows go."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2, n)
    copies = [base ^ (rng.random(n) < 0.05) for _ in range(4)]
    X = np.column_stack([*copies, rng.normal(size=n)]).astype(float)
    return X, (base ^ (rng.random(n) < 0.2)).astype(int)


@pytest.mark.parametrize("params", [{"k": None}, {"k": 2, "criterion": "entropy"}])
def test_splits_that_return_take_their_former_subtrees_back(params, incremental):
    """A node whose split flips back updates the children it parked instead of retraining
    them; after deletions, additions and a relabel in between, the forest is still the
    retrained one."""
    X, y = _near_tied(seed=3)
    model = _model(DaREForestClassifier, max_depth=4, n_estimators=4, **params)
    model.fit(X[:360], y[:360])
    rng = np.random.default_rng(0)
    kept, labels, reused = set(range(360)), y.copy(), 0
    for step, row in enumerate(rng.choice(360, 60, replace=False)):
        reused += model.unlearn([int(row)]).evidence["subtree_pairs_reused"]
        kept.discard(int(row))
        if step == 20:
            model.partial_fit(X[360:], y[360:])
            kept |= set(range(360, 400))
        if step == 40:
            target = min(kept)
            labels[target] = 1 - labels[target]
            model.unlearn(ForgetRequest.relabel({target: int(labels[target])}))
    assert reused > 0
    assert_same_forest(model, retrain(model, X, labels, kept), X)


def test_batch_deletion_equals_sequential(incremental):
    X, y, _ = _dataset("integers", seed=6)
    batch = _model(DaREForestClassifier, k=3).fit(X, y)
    one_by_one = clone(batch).fit(X, y)
    forget = [3, 17, 40, 41, 99, 120, 7]
    batch.unlearn(forget)
    for i in forget:
        one_by_one.unlearn([i])
    assert_same_forest(batch, one_by_one, X)


def test_many_rows_leaving_one_leaf_equal_retraining(incremental):
    """More than a few removed rows in one leaf (40 over the two leaves of each stump) take
    the leaf's other path."""
    X, y, _ = _dataset("continuous", seed=7)
    model = _model(DaREForestClassifier, k=2, max_depth=1).fit(X, y)
    gone = set(range(0, 120, 3))
    model.unlearn(sorted(gone))
    assert_same_forest(model, retrain(model, X, y, set(range(150)) - gone), X)


def test_large_request_retrains_and_stays_exact():
    X, y, _ = _dataset("continuous", seed=7)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    forget = list(range(0, 150, 2))  # half of the samples
    result = model.unlearn(forget)
    assert result.retrained_fraction == 1.0
    assert_same_forest(model, retrain(model, X, y, set(range(150)) - set(forget)), X)


def test_partial_fit_equals_training_on_everything(incremental):
    X, y, _ = _dataset("integers", seed=8)
    for params in ({"k": None}, {"k": 2}, {"k": 2, "max_features": None}):
        model = _model(DaREForestClassifier, **params).fit(X[:100], y[:100])
        model.partial_fit(X[100:110], y[100:110])
        model.partial_fit(X[110:], y[110:], classes=np.unique(y))
        assert_same_forest(model, retrain(model, X, y, range(150)), X)
        model.unlearn([0, 105, 149])
        assert_same_forest(model, retrain(model, X, y, set(range(150)) - {0, 105, 149}), X)


def test_regressor_partial_fit_and_relabel(incremental):
    X, _, _ = _dataset("continuous", seed=9)
    y = X[:, 0] - X[:, 2] * 2
    model = _model(DaREForestRegressor, k=3).fit(X[:120], y[:120])
    model.partial_fit(X[120:], y[120:])
    assert_same_forest(model, retrain(model, X, y, range(150)), X)
    new_y = y.copy()
    new_y[[4, 50]] = [10.0, -3.0]
    model.unlearn(ForgetRequest.relabel({4: 10.0, 50: -3.0}))
    assert_same_forest(model, retrain(model, X, new_y, range(150)), X)


def test_relabel_equals_retraining(incremental):
    X, y, _ = _dataset("binary", seed=10)
    model = _model(DaREForestClassifier, k=None).fit(X, y)
    changes = {5: (y[5] + 1) % 3, 9: (y[9] + 2) % 3, 77: (y[77] + 1) % 3}
    result = model.unlearn(ForgetRequest.relabel(changes))
    new_y = y.copy()
    for i, label in changes.items():
        new_y[i] = label
    assert result.relabeled_ids == (5, 9, 77)
    assert_same_forest(model, retrain(model, X, new_y, range(150)), X)


def test_class_removal_equals_retraining(incremental):
    X, y, _ = _dataset("continuous", seed=11)
    y = y.copy()
    y[:6] = 3  # a small fourth class
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    model.unlearn(ForgetRequest.classes([3]))
    assert model.classes_.tolist() == [0, 1, 2]
    assert_same_forest(model, retrain(model, X, y, range(6, 150)), X)


@pytest.mark.parametrize(
    ("params", "retrains"),
    [({"k": None, "max_features": None}, False), ({"k": 2, "max_features": "sqrt"}, True)],
)
def test_feature_removal_equals_retraining(params, retrains, incremental):
    X, y, _ = _dataset("integers", seed=12)
    model = _model(DaREForestClassifier, **params).fit(X, y)
    result = model.unlearn(ForgetRequest.features([1]))
    Xd = np.delete(X, 1, axis=1)
    assert model.n_features_in_ == 3
    assert (result.retrained_fraction == 1.0) is retrains
    assert_same_forest(model, retrain(model, Xd, y, range(150)), Xd)


def test_feature_removal_by_name(incremental):
    pd = pytest.importorskip("pandas")
    X, y, _ = _dataset("continuous", seed=13)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = _model(DaREForestClassifier, k=None, max_features=None).fit(frame, y)
    model.unlearn(ForgetRequest.features(["a", "c"]))
    kept = frame[["b", "d"]]
    reference = clone(model).fit(kept, y)
    assert_same_forest(model, reference, kept)


def test_group_request_equals_retraining(incremental):
    X, y, _ = _dataset("integers", seed=14)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    model.unlearn(ForgetRequest.group(lambda t: (t["x0"] == 4).to_numpy()))
    assert_same_forest(model, retrain(model, X, y, np.flatnonzero(X[:, 0] != 4)), X)


def test_compaction_keeps_the_forest(monkeypatch, incremental):
    monkeypatch.setattr(forest_module, "COMPACT_RATIO", 1.0)
    X, y, _ = _dataset("continuous", seed=15)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    for i in range(0, 30, 3):
        model.unlearn([i])
    kept = set(range(150)) - set(range(0, 30, 3))
    assert_same_forest(model, retrain(model, X, y, kept), X)


def test_heaps_that_cannot_be_reserved_grow_as_needed(monkeypatch, incremental):
    """Where the system refuses to reserve room for updates, the heaps start at what the trees
    need and the updates grow them: same trees, less reserved."""
    X, y, _ = _dataset("continuous", seed=15)
    roomy = _model(DaREForestClassifier, k=2).fit(X, y)
    empty = np.empty

    def refuse_large(size, *args, **kwargs):
        if isinstance(size, int) and size > 100_000:
            raise MemoryError("no room")
        return empty(size, *args, **kwargs)

    monkeypatch.setattr(_store_module.np, "empty", refuse_large)
    tight = _model(DaREForestClassifier, k=2).fit(X, y)
    monkeypatch.undo()
    reserved = tight.memory_usage()["reserved"]
    assert reserved < roomy.memory_usage()["reserved"]
    for model in (roomy, tight):
        for i in range(0, 60, 2):
            model.unlearn([i])
    assert tight.memory_usage()["reserved"] > reserved  # the updates outgrew the heaps
    assert_same_forest(tight, roomy, X)
    assert_same_forest(tight, retrain(tight, X, y, set(range(150)) - set(range(0, 60, 2))), X)


def test_threads_give_the_same_forest():
    X, y, _ = _dataset("continuous", seed=16)
    one = _model(DaREForestClassifier, k=2).fit(X, y)
    two = _model(DaREForestClassifier, k=2, n_jobs=2).fit(X, y)
    assert_same_forest(one, two, X)


def test_copies_sharing_the_trees_stay_independent(incremental):
    """Updates never write over what another model over the same storage still reads."""
    X, y, _ = _dataset("continuous", seed=17)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    before = model.predict_proba(X)
    other = copy.copy(model)  # shares the tree storage
    other._store = model._store.copy()
    model.unlearn([1, 2, 3])
    assert np.array_equal(other.predict_proba(X), before)
    other.unlearn([4])
    assert_same_forest(other, retrain(other, X, y, set(range(150)) - {4}), X)
    assert_same_forest(model, retrain(model, X, y, set(range(150)) - {1, 2, 3}), X)


def test_old_states_stay_readable_for_a_few_updates_then_say_so(incremental):
    """Updates write in place; a journal keeps the last states of shared trees readable."""
    X, y, _ = _dataset("continuous", seed=18)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    before = model.predict_proba(X)
    other = copy.copy(model)  # shares the tree storage
    for i in range(_store_module.KEEP_VERSIONS - 1):
        model.unlearn([i])
    assert np.array_equal(other.predict_proba(X), before)  # undone from the journals
    gone = set(range(_store_module.KEEP_VERSIONS - 1))
    assert_same_forest(model, retrain(model, X, y, set(range(150)) - gone), X)  # redone
    for i in range(10, 10 + _store_module.KEEP_VERSIONS):
        model.unlearn([i])
    with pytest.raises(SupersededStateError, match="deepcopy"):
        other.predict_proba(X)
    assert model.memory_usage()["journal"] > 0


def test_journals_never_hold_more_than_the_trees(monkeypatch):
    """Older journals go first once they outgrow the heaps; the newest one always stays."""
    monkeypatch.setattr(_store_module, "JOURNAL_FLOOR_WORDS", 0)
    lineage = _store_module._Lineage((np.zeros(100, np.int64), np.zeros(50)))
    for _ in range(3):
        lineage.commit(np.zeros(60, np.int64), 10)
    assert sorted(lineage.journals) == [2, 3]  # 3 x 60 words > 150: the oldest went
    lineage.commit(np.zeros(400, np.int64), 10)
    assert sorted(lineage.journals) == [4]
    assert lineage.journal_words() == 400 + 60  # the newest and one spare for reuse


def test_overflowing_journal_and_heaps_resume_and_leave_the_old_state(monkeypatch, incremental):
    """Tiny journals and full heaps interrupt updates midway; the result is still exact and
    a model sharing the old trees still reads them."""
    X, y, _ = _dataset("continuous", seed=19)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    before = model.predict_proba(X)
    monkeypatch.setattr(_store_module._Lineage, "buffer", lambda self: np.empty(8, np.int64))
    forest = model._forest
    ib, fb = forest.heaps
    tight = (ib[: int(forest.lens[0]) + 16].copy(), fb[: int(forest.lens[1]) + 16].copy())
    model._forest = _store_module.ForestStore(
        _store_module._Lineage(tight), forest.lens.copy(), forest.roots, forest.live
    )
    other = copy.copy(model)  # shares the tight heaps
    other._store = model._store.copy()
    model.unlearn([5, 6, 7])
    model.unlearn([9])  # one row: only the words that change are journaled
    model.partial_fit(X[:3] + 0.5, y[:3], sample_ids=[150, 151, 152])
    assert np.array_equal(other.predict_proba(X), before)
    X2, y2 = np.vstack([X, X[:3] + 0.5]), np.concatenate([y, y[:3]])
    assert_same_forest(model, retrain(model, X2, y2, set(range(153)) - {5, 6, 7, 9}), X)


def test_very_deep_trees_update_without_exhausting_the_stack(incremental):
    """Alternating labels on one attribute give a chain as deep as the data (max_depth=None)."""
    n = 1_200
    X = np.arange(n, dtype=float).reshape(-1, 1)
    y = np.arange(n) % 2
    model = DaREForestClassifier(n_estimators=1, max_depth=None, k=None, random_state=0)
    model.fit(X, y)
    assert model.estimators_[0].max_depth > 1_000
    model.unlearn([n - 7])
    assert_same_forest(model, retrain(model, X, y, set(range(n)) - {n - 7}), X)


def test_docstring_examples():
    import doctest

    result = doctest.testmod(forest_module)
    assert result.attempted >= 2
    assert result.failed == 0


# -- randomised configurations: exact in distribution ------------------------------------------
def _root_draws(model) -> tuple[np.ndarray, np.ndarray]:
    roots = [(t.feature[0], t.threshold[0]) for t in model.estimators_]
    return np.array([r[0] for r in roots]), np.array([r[1] for r in roots])


def test_random_levels_are_exact_in_distribution(incremental):
    """After a deletion, the root splits of random levels are distributed as after retraining.

    Each tree is an independent draw of the root split (its seed comes from the tree index),
    so a forest of many one-level trees samples the distribution. Removing the outlier of
    attribute 0 shrinks its range from [0, 100) to [0, 9): every root threshold on attribute 0
    must be uniform on the new range, as a retrain draws it.
    """
    rng = np.random.default_rng(0)
    X = np.column_stack([np.r_[np.arange(10.0), 100.0], rng.normal(size=11)])
    y = np.r_[np.zeros(5, int), np.ones(6, int)]
    params = {"n_estimators": 600, "max_depth": 1, "topd": 1, "random_state": 5}
    model = DaREForestClassifier(**params).fit(X, y)
    before_f, before_t = _root_draws(model)
    model.unlearn([10])
    after_f, after_t = _root_draws(model)
    fresh = DaREForestClassifier(**{**params, "random_state": 6}).fit(X[:10], y[:10])
    fresh_f, fresh_t = _root_draws(fresh)
    table = np.array([np.bincount(after_f, minlength=2), np.bincount(fresh_f, minlength=2)])
    assert stats.chi2_contingency(table).pvalue > 1e-3
    on0 = after_t[after_f == 0]
    assert on0.min() >= 0.0
    assert on0.max() < 9.0
    assert stats.ks_2samp(on0, fresh_t[fresh_f == 0]).pvalue > 1e-3
    assert stats.kstest(on0 / 9.0, "uniform").pvalue > 1e-3
    # the test has power: the thresholds before the deletion are visibly different
    assert stats.ks_2samp(before_t[before_f == 0], fresh_t[fresh_f == 0]).pvalue < 1e-6


def test_random_levels_after_additions_are_exact_in_distribution(incremental):
    """Adding a sample that widens an attribute's range keeps the draws uniform on it."""
    rng = np.random.default_rng(1)
    X = np.column_stack([np.arange(10.0), rng.normal(size=10)])
    y = np.r_[np.zeros(5, int), np.ones(5, int)]
    params = {"n_estimators": 600, "max_depth": 1, "topd": 1, "random_state": 7}
    model = DaREForestClassifier(**params).fit(X, y)
    x_new = np.array([[30.0, 0.0]])
    model.partial_fit(x_new, [1])
    after_f, after_t = _root_draws(model)
    X_all = np.vstack([X, x_new])
    fresh = DaREForestClassifier(**{**params, "random_state": 8}).fit(X_all, np.r_[y, 1])
    fresh_f, fresh_t = _root_draws(fresh)
    table = np.array([np.bincount(after_f, minlength=2), np.bincount(fresh_f, minlength=2)])
    assert stats.chi2_contingency(table).pvalue > 1e-3
    on0 = after_t[after_f == 0]
    assert stats.ks_2samp(on0, fresh_t[fresh_f == 0]).pvalue > 1e-3
    assert stats.kstest(on0 / 30.0, "uniform").pvalue > 1e-3


def test_random_levels_keep_trees_consistent(incremental):
    """With random top levels, counts and leaf values always describe the rows held."""
    X, y, _ = _dataset("integers", seed=18)
    model = _model(DaREForestClassifier, topd=2, k=2).fit(X[:130], y[:130])
    kept = list(range(130))
    model.unlearn([0, 5, 9])
    kept = [i for i in kept if i not in (0, 5, 9)]
    model.partial_fit(X[130:], y[130:])
    kept += list(range(130, 150))
    for tree in model.estimators_:
        leaf_of = np.zeros(len(kept), int)
        for pos, i in enumerate(kept):
            node = 0
            while tree.children_left[node] >= 0:
                go_left = X[i, tree.feature[node]] <= tree.threshold[node]
                node = tree.children_left[node] if go_left else tree.children_right[node]
            leaf_of[pos] = node
        leaves = np.flatnonzero(tree.children_left < 0)
        counts = np.bincount(leaf_of, minlength=tree.node_count)[leaves]
        assert np.array_equal(counts, tree.n_node_samples[leaves])
        assert tree.random_split[0]
        assert tree.max_depth <= 6


# -- quality, memory, introspection ------------------------------------------------------------
def test_accuracy_close_to_scikit_learn():
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    dare = DaREForestClassifier(n_estimators=30, max_depth=8, k=10, random_state=0)
    sk = RandomForestClassifier(n_estimators=30, max_depth=8, bootstrap=False, random_state=0)
    acc_dare = dare.fit(X_tr, y_tr).score(X_te, y_te)
    acc_sk = sk.fit(X_tr, y_tr).score(X_te, y_te)
    assert acc_dare > 0.9
    assert acc_dare >= acc_sk - 0.04


def test_regressor_fits_a_signal():
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, size=(400, 3))
    y = np.sin(X[:, 0]) * 2 + X[:, 1]
    model = DaREForestRegressor(n_estimators=20, max_depth=8, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.9


def test_memory_is_bounded_by_k_and_max_features():
    X, y, _ = _dataset("continuous", seed=19)
    sizes = {}
    for k in (1, 4, None):
        model = _model(DaREForestClassifier, k=k, max_depth=None).fit(X, y)
        usage = model.memory_usage()
        sizes[k] = usage["cached_statistics"]
        # right after a fit the heaps hold the trees and nothing else, inside their capacity
        parts = usage["tree_nodes"] + usage["cached_statistics"] + usage["leaf_samples"]
        assert usage["allocated"] == parts <= usage["reserved"]
        if k is not None:
            # per node: at most n_features headers of 80 bytes, and per header at most k
            # entries of two values and three blocks of three class counts
            nodes = sum(t.node_count for t in model.estimators_)
            per_node = 4 * (9 * 8 + 8) + 4 * k * (2 * 8 + 3 * 3 * 8)
            assert usage["cached_statistics"] <= nodes * per_node
    assert sizes[1] < sizes[4] < sizes[None]


def test_feature_importances_and_trees():
    X, y, _ = _dataset("continuous", seed=20)
    model = _model(DaREForestClassifier, k=None).fit(X, y)
    imp = model.feature_importances_
    assert imp.shape == (4,)
    assert np.isclose(imp.sum(), 1.0)
    assert (imp >= 0).all()
    assert imp[[0, 1]].sum() > imp[[2, 3]].sum()  # y depends on x0 - x1
    tree = model.estimators_[0]
    internal = tree.children_left >= 0
    left, right = tree.children_left[internal], tree.children_right[internal]
    assert np.array_equal(
        tree.n_node_samples[internal], tree.n_node_samples[left] + tree.n_node_samples[right]
    )
    assert np.allclose(tree.value.sum(axis=1), 1.0)


def test_parameters_set_after_fit_shape_the_next_fit_only(incremental):
    """As in scikit-learn, ``set_params`` does not reach the fitted trees: unlearning keeps
    to the parameters the forest was trained with."""
    X, y, _ = _dataset("continuous", seed=4)
    model = _model(DaREForestClassifier, k=None).fit(X, y)
    model.set_params(k=2, topd=2, max_features=1, max_depth=3, criterion="entropy")
    model.unlearn([0, 5, 9])
    original = _model(DaREForestClassifier, k=None)
    kept = set(range(150)) - {0, 5, 9}
    assert_same_forest(model, retrain(original, X, y, kept), X)
    refit = model.fit(X, y)
    assert refit.estimators_[0].max_depth <= 3
    assert_same_forest(refit, clone(model).fit(X, y), X)


def test_save_and_load(tmp_path, incremental):
    X, y, _ = _dataset("integers", seed=21)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    model.unlearn([1, 2])
    path = model.save(tmp_path / "forest.ukit")
    loaded = DaREForestClassifier.load(path)
    assert_same_forest(loaded, model, X)
    loaded.unlearn([3])
    model.unlearn([3])
    assert_same_forest(loaded, model, X)
    assert isinstance(load(path), DaREForestClassifier)
    assert pickle.loads(pickle.dumps(model)).fingerprint() == model.fingerprint()


# -- bad input ---------------------------------------------------------------------------------
def _state(model) -> bytes:
    return pickle.dumps(model.__dict__)


def test_bad_requests_leave_the_model_unchanged(incremental):
    X, y, _ = _dataset("continuous", seed=22)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    model.unlearn([0])
    before = _state(model)
    cases = [
        (UnknownIdError, [10_000]),
        (AlreadyForgottenError, [0]),
        (DuplicateIdError, [5, 5]),
        (InvalidRequestError, list(range(1, 150))),
        (EmptiesClassError, np.flatnonzero(y == 2).tolist()),
        (InvalidRequestError, ForgetRequest.features([9])),
        (InvalidRequestError, ForgetRequest.classes([7])),
    ]
    for error, request in cases:
        with pytest.raises(error):
            model.unlearn(request)
        assert _state(model) == before


def test_failure_inside_an_update_restores_the_model(monkeypatch, incremental):
    X, y, _ = _dataset("continuous", seed=23)
    model = _model(DaREForestClassifier, k=2).fit(X, y)
    before = _state(model)
    digests = model.tree_digests_.copy()

    def broken(self):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(DaREForestClassifier, "_publish", broken)
    with pytest.raises(RuntimeError):
        model.unlearn([4, 8])
    monkeypatch.undo()
    assert _state(model) == before
    assert np.array_equal(model.tree_digests_, digests)
    model.unlearn([4, 8])  # and the model still works from its old state
    assert_same_forest(model, retrain(model, X, y, set(range(150)) - {4, 8}), X)


@pytest.mark.parametrize("kind", DATASETS)
@pytest.mark.parametrize("cls", [DaREForestClassifier, DaREForestRegressor])
def test_failed_update_restores_every_word_of_the_trees(monkeypatch, kind, cls, incremental):
    """The journal records every word an update writes in place: reading the heaps of the
    model a failed update left as it was undoes the update word for word (ties exercise the
    counts of repeated largest values, which change without a rescan)."""
    X, y, _ = _dataset(kind, seed=24)
    model = _model(cls, k=2).fit(X, y)
    forest = model._forest
    used_i, used_f = int(forest.lens[0]), int(forest.lens[1])
    before = forest.heaps[0][:used_i].copy(), forest.heaps[1][:used_f].copy()

    def broken(self):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(cls, "_publish", broken)
    for rows in ([3], [4, 40, 41], list(range(60, 90))):
        with pytest.raises(RuntimeError):
            model.unlearn(rows)
        assert model._forest is forest
        ib, fb = forest.heaps  # brings the shared heaps back to this version
        assert np.array_equal(ib[:used_i], before[0])
        assert np.array_equal(fb[:used_f].view(np.int64), before[1].view(np.int64))


@pytest.mark.parametrize("k", [1, 2, 5, 25])
@pytest.mark.parametrize("values", ["continuous", "ties", "few"])
def test_sampled_candidates_follow_their_definition(k, values):
    """A classifier's candidates are found without sorting the node's values; they are still,
    as defined, the ``k`` non-maximal distinct values with the smallest keys (all of them when
    there are at most ``k``), each with its next value and the class counts left of it and at
    both values (computed here with numpy)."""
    from unlearnkit.exact.forest import _tree as kern

    rng = np.random.default_rng(k)
    n = 400
    X = {
        "continuous": rng.normal(size=(n, 2)),
        "ties": rng.integers(0, 40, size=(n, 2)) / 4,
        "few": rng.integers(0, 4, size=(n, 2)).astype(float),
    }[values]
    y = rng.integers(0, 3, n)
    model = DaREForestClassifier(n_estimators=1, max_depth=1, k=k).fit(X, y)
    P = model._params()
    Xt, Y, R = model._data()
    WI, EIW, EFW = int(P[kern.P_WI]), int(P[kern.P_EIW]), int(P[kern.P_EFW])
    seed = np.uint64(987654321)
    for f in range(2):
        rows = np.sort(rng.choice(n, 300, replace=False)).astype(np.int64)
        IB, FB = np.zeros(10_000, np.int64), np.zeros(10_000)
        lens = np.zeros(kern.N_LENS, np.int64)
        hrow = np.zeros(kern.HIW, np.int64)
        WSI, WSF = kern._workspace(len(rows), P)
        varies, vmax = kern._scan_attribute(
            IB, FB, lens, Xt, Y, R, P, rows, seed, f, WSI, WSF, hrow
        )
        v, labels = Xt[f, rows], Y[1, rows]
        distinct = np.unique(v)
        keys = np.asarray(kern._value_keys(seed, f, distinct[:-1], len(distinct) - 1))
        if len(keys) > k:
            sample = np.sort(distinct[:-1][np.argsort(keys)[:k]])
            kappa = np.sort(keys)[k - 1].astype(np.int64)
        else:
            sample, kappa = distinct[:-1], -1
        assert varies
        assert vmax == distinct[-1]
        assert hrow[kern.HELEN] == len(sample)
        assert hrow[kern.HKAPPA] == kappa
        assert hrow[kern.HNVMAX] == np.sum(v == distinct[-1])
        ei, ef = hrow[kern.HESTART], hrow[kern.HEFSTART]
        for j, value in enumerate(sample):
            following = distinct[np.searchsorted(distinct, value) + 1]
            assert FB[ef + j * EFW] == value
            assert FB[ef + j * EFW + 1] == following
            e = ei + j * EIW
            for offset, mask in ((0, v <= value), (WI, v == value), (2 * WI, v == following)):
                counts = np.bincount(labels[mask], minlength=WI)
                assert np.array_equal(IB[e + offset : e + offset + WI], counts)


@pytest.mark.parametrize(
    "params",
    [
        {"k": 0},
        {"k": -2},
        {"topd": -1},
        {"topd": 11, "max_depth": 10},
        {"max_features": 0},
        {"max_features": 1.5},
        {"criterion": "squared_error"},
        {"min_samples_leaf": 0},
        {"n_estimators": 0},
    ],
)
def test_invalid_parameters(params):
    X, y, _ = _dataset("continuous")
    model = DaREForestClassifier(**params)
    with pytest.raises(InvalidParameterError):
        model.fit(X, y)
    assert not hasattr(model, "tree_digests_")


def test_invalid_data():
    X, y, _ = _dataset("continuous")
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataValidationError):
        DaREForestClassifier(n_estimators=2).fit(bad, y)
    model = DaREForestClassifier(n_estimators=2).fit(X, y)
    with pytest.raises(DataValidationError):
        model.predict(bad)
    with pytest.raises(DataValidationError):
        model.partial_fit(X[:3], y[:3], sample_weight=np.ones(3))
    with pytest.raises(DataValidationError):
        DaREForestClassifier(n_estimators=2).fit(X, X[:, 0])  # continuous target
    with pytest.raises(DataValidationError):
        DaREForestRegressor(n_estimators=2).fit(X, np.column_stack([X[:, 0], X[:, 1]]))
    with pytest.raises(DataValidationError):
        model.partial_fit(X[:2], [0, 9])  # an unseen class
