"""The local backend: order, in-process runs, typed errors naming the failing item."""

from __future__ import annotations

import io
import os
import time

import pytest

from unlearnkit.backends import (
    Backend,
    BackendError,
    JobError,
    LocalBackend,
    backends,
    get_backend,
    resolve_backend,
)
from unlearnkit.errors import InvalidParameterError, UnlearnError


def slow_square(x: int) -> int:
    time.sleep(0.02 * (5 - x) if x < 5 else 0)  # early items finish last
    return x * x


def pid_of(_: object) -> int:
    return os.getpid()


def fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError(f"bad value {x}")
    return x


def test_registry_names():
    assert backends.names() == ["local", "ray"]


@pytest.mark.parametrize("n_jobs", [None, 1, 2])
def test_map_keeps_item_order(n_jobs):
    with get_backend("local", n_jobs=n_jobs) as backend:
        assert backend.map(slow_square, range(8)) == [x * x for x in range(8)]


def test_one_job_runs_in_this_process():
    backend = get_backend("local", n_jobs=1)
    assert backend.n_workers == 1
    assert set(backend.map(pid_of, range(3))) == {os.getpid()}


def test_two_jobs_use_worker_processes():
    pids = get_backend("local", n_jobs=2).map(pid_of, range(4))
    assert os.getpid() not in pids


def test_empty_items_give_empty_list():
    assert get_backend().map(slow_square, []) == []


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_failing_job_raises_typed_error_naming_the_item(n_jobs):
    with pytest.raises(JobError) as info:
        get_backend("local", n_jobs=n_jobs).map(fail_on_three, [1, 2, 3, 4])
    err = info.value
    assert isinstance(err, UnlearnError)
    assert err.index == 2
    assert err.item == "3"
    assert isinstance(err.__cause__, ValueError)
    assert "Job 2 (3) failed with ValueError: bad value 3" in str(err)
    assert "ValueError" in err.details


def test_progress_bar_shows_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr("sys.stderr", fake)
    monkeypatch.setenv("TERM", "xterm")
    assert get_backend().map(slow_square, range(6), desc="squaring") == [x * x for x in range(6)]
    assert "squaring" in fake.getvalue()


def test_no_progress_output_without_a_terminal(capsys):
    get_backend().map(slow_square, range(3), desc="squaring")
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_resolve_backend_passes_instances_through():
    mine = LocalBackend(n_jobs=1)
    assert resolve_backend(mine) is mine
    made = resolve_backend("local", n_jobs=2)
    assert isinstance(made, LocalBackend)
    assert made is not mine
    assert made.n_workers == 2
    assert isinstance(made, Backend)


def test_all_cores():
    assert get_backend("local", n_jobs=-1).n_workers == (os.cpu_count() or 1)


def test_unknown_name():
    with pytest.raises(InvalidParameterError, match=r"No backend named .spark.*local, ray"):
        get_backend("spark")
    with pytest.raises(InvalidParameterError, match="a Backend instance"):
        resolve_backend(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("n_jobs", [0, 1.5, True, "2"])
def test_bad_n_jobs(n_jobs):
    with pytest.raises(BackendError, match="n_jobs="):
        get_backend("local", n_jobs=n_jobs)


def test_address_is_for_ray_only():
    with pytest.raises(InvalidParameterError, match="backend='ray' only"):
        get_backend("local", address="auto")


class FakeRay:
    """Records how the Ray backend starts and stops sessions, without starting Ray."""

    def __init__(self, initialized: bool) -> None:
        self.initialized = initialized
        self.calls: list[tuple[str, dict]] = []

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs):
        self.calls.append(("init", kwargs))
        self.initialized = True

    def shutdown(self):
        self.calls.append(("shutdown", {}))
        self.initialized = False

    def remote(self, **_):
        return lambda fn: fn


@pytest.mark.parametrize(
    ("running", "address", "env", "expected_init"),
    [
        (True, None, None, None),
        (False, None, None, {"num_cpus": 2, "include_dashboard": False}),
        (False, "ray://head:10001", None, {"address": "ray://head:10001"}),
        (False, None, "ray://env:10001", {"address": "ray://env:10001"}),
    ],
)
def test_ray_backend_stops_only_the_session_it_started(
    monkeypatch, running, address, env, expected_init
):
    fake = FakeRay(initialized=running)
    monkeypatch.setitem(__import__("sys").modules, "ray", fake)
    if env is None:
        monkeypatch.delenv("RAY_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("RAY_ADDRESS", env)
    backend = get_backend("ray", n_jobs=2, address=address)
    backend.close()
    if expected_init is None:
        assert fake.calls == []
        assert fake.initialized
    else:
        (name, kwargs), stop = fake.calls
        assert name == "init"
        assert expected_init.items() <= kwargs.items()
        assert stop == ("shutdown", {})


def test_ray_backend_unreachable_address(monkeypatch):
    fake = FakeRay(initialized=False)

    def refuse(**kwargs):
        raise ConnectionError("connection refused")

    fake.init = refuse  # type: ignore[method-assign]
    monkeypatch.setitem(__import__("sys").modules, "ray", fake)
    with pytest.raises(BackendError, match="Could not start or reach Ray at ray://nowhere:1"):
        get_backend("ray", address="ray://nowhere:1")


def test_ray_backend_bad_cpus():
    with pytest.raises(BackendError, match="n_jobs=0"):
        get_backend("ray", n_jobs=0)


def test_ray_backend_pickles_its_settings_and_reconnects_when_used(monkeypatch):
    import pickle

    fake = FakeRay(initialized=False)
    monkeypatch.setitem(__import__("sys").modules, "ray", fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    backend = get_backend("ray", address="ray://head:10001")
    copy = pickle.loads(pickle.dumps(backend))
    assert copy.address == "ray://head:10001"
    assert len(fake.calls) == 1
    fake.initialized = False
    copy.close()
    assert len(fake.calls) == 1  # a copy that never connected shuts nothing down
    assert copy._connect() is fake
    assert fake.calls[-1] == ("init", {"address": "ray://head:10001", "logging_level": "warning"})


def test_unpicklable_job_is_a_typed_error():
    import threading

    with pytest.raises(BackendError, match="must be picklable"):
        get_backend("local", n_jobs=2).map(str, [1, threading.Lock()])
