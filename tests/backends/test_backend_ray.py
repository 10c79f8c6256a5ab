"""The Ray backend on a local two-CPU Ray (one start for the whole module)."""

from __future__ import annotations

import math

import pytest

from unlearnkit.backends import JobError, RayBackend, get_backend, resolve_backend

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    if started:
        ray.shutdown()


def test_joins_a_running_session_and_leaves_it_running(local_ray):
    backend = get_backend("ray")
    assert isinstance(backend, RayBackend)
    assert backend.n_workers == 2
    assert backend.map(abs, [-3, 1, -2]) == [3, 1, 2]
    backend.close()
    assert ray.is_initialized()


def test_failing_task_names_the_item(local_ray):
    with pytest.raises(JobError) as info:
        resolve_backend("ray").map(math.sqrt, [4.0, -1.0])
    assert info.value.index == 1
    assert info.value.item == "-1.0"
    assert isinstance(info.value.__cause__, ValueError)


def test_sisa_on_ray_equals_sisa_in_process(local_ray):
    from sklearn.linear_model import SGDClassifier

    from unlearnkit.checks import make_check_data
    from unlearnkit.exact import SISAClassifier

    X, y = make_check_data("classification", 0, n=120)
    params = {"estimator": SGDClassifier(loss="log_loss"), "n_shards": 3, "n_slices": 2}
    on_ray = SISAClassifier(backend="ray", **params).fit(X, y)
    here = SISAClassifier(**params).fit(X, y)
    assert on_ray.fingerprint() == here.fingerprint()
    result = on_ray.unlearn([0, 1, 2, 3])
    here.unlearn([0, 1, 2, 3])
    assert on_ray.fingerprint() == here.fingerprint()
    assert result.evidence["shards_retrained"]
    assert ray.is_initialized()
