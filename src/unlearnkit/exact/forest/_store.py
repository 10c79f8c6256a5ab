"""The heaps that hold a forest, and running kernels on them without touching the old state.

A :class:`ForestStore` is never changed once built: an operation runs a kernel that appends
to the heaps past the store's lengths and returns a new store with new lengths and roots. The
old store reads only what lies below its own lengths, so it stays valid: this is what lets
:meth:`unlearnkit.base.Unlearner.unlearn` restore a model after a failure simply by restoring
its attributes. A "high-water mark" shared by the stores over the same heaps records how far
they have been claimed; an operation that starts from a store whose lengths are not the mark
(an older store, or a shallow copy of a model that has moved on) copies the heaps first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from unlearnkit.exact.forest import _tree as kern

_HEAPS = (kern.L_I, kern.L_F)
#: Trees at most this deep are updated on the calling thread's stack.
SHALLOW_DEPTH = 500
#: Stack bytes reserved per tree level for deeper trees (a frame of the update is about 2 KiB).
_STACK_PER_LEVEL = 16 * 1024


def _on_big_stack(fn: Callable[[], Any], depth: int) -> Any:
    """Call ``fn`` on a new thread whose stack holds ``depth`` levels of recursion."""
    out: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # re-raised on the calling thread
            error.append(exc)

    size = min(max(depth * _STACK_PER_LEVEL + (64 << 20), 64 << 20), 8 << 30)
    with _STACK_LOCK:
        previous = threading.stack_size(size)
        try:
            worker = threading.Thread(target=target, name="dare-forest-update")
            worker.start()
        finally:
            threading.stack_size(previous)
    worker.join()
    if error:
        raise error[0]
    return out[0]


_STACK_LOCK = threading.Lock()


def _resized(a: np.ndarray, size: int, used: int) -> np.ndarray:
    """A copy of the used part of ``a`` in a larger heap (the rest is written before read)."""
    out = np.empty(size, dtype=a.dtype)
    out[:used] = a[:used]
    return out


class ForestStore:
    """Heaps, their used lengths and the root node of every tree (read-only once built)."""

    __slots__ = ("_mark", "heaps", "lens", "live", "roots")

    def __init__(
        self,
        heaps: tuple[np.ndarray, np.ndarray],
        lens: np.ndarray,
        roots: np.ndarray,
        live: np.ndarray,
        mark: list[np.ndarray] | None = None,
    ) -> None:
        self.heaps = heaps
        self.lens = lens
        self.roots = roots
        self.live = live
        self._mark = mark if mark is not None else [lens.copy()]

    @classmethod
    def empty(cls, ints: int, floats: int) -> ForestStore:
        heaps = (np.empty(max(ints, 64), np.int64), np.empty(max(floats, 64), np.float64))
        return cls(heaps, np.zeros(kern.N_LENS, np.int64), np.zeros(0, np.int64), np.zeros(2))

    # -- pickling: only the used words, and a private mark ----------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {
            "heaps": tuple(h[: self.lens[g]] for h, g in zip(self.heaps, _HEAPS, strict=True)),
            "lens": self.lens,
            "roots": self.roots,
            "live": self.live,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        ib, fb = (np.array(h, copy=True) for h in state["heaps"])
        self.heaps = (ib, fb)
        self.lens = np.array(state["lens"], copy=True)
        self.roots = np.array(state["roots"], copy=True)
        self.live = np.array(state["live"], copy=True)
        self._mark = [self.lens.copy()]

    # -- running kernels --------------------------------------------------------------------
    def _owned(self) -> tuple[np.ndarray, np.ndarray]:
        """The heaps, copied first when another store has already written past our lengths."""
        if np.array_equal(self._mark[0], self.lens):
            return self.heaps
        ib, fb = (
            _resized(h, max(2 * int(self.lens[g]), 1024), int(self.lens[g]))
            for h, g in zip(self.heaps, _HEAPS, strict=True)
        )
        return ib, fb

    def run(
        self,
        kernel: Callable[..., Any],
        *args: Any,
        n_roots: int | None = None,
        depth: int = 0,
    ) -> tuple[ForestStore, np.ndarray]:
        """Run ``kernel(IB, FB, lens, *args, out_roots, work)`` until no heap overflows.

        ``depth`` bounds the depth of the trees: updates recurse once per level, so deep trees
        run on a thread with a stack to match. Returns the new store (over the same heaps when
        they sufficed) and the work counters.
        """
        if depth > SHALLOW_DEPTH:
            return _on_big_stack(lambda: self.run(kernel, *args, n_roots=n_roots), depth)
        ib, fb = self._owned()
        lens = self.lens.copy()
        lens[kern.L_FLAG] = 0
        lens[kern.L_PROG] = 0
        out_roots = np.full(len(self.roots) if n_roots is None else n_roots, -1, np.int64)
        work = np.zeros(kern.N_WORK, np.int64)
        while True:
            try:
                kernel(ib, fb, lens, *args, out_roots, work)
                break
            except OverflowError:
                if int(lens[kern.L_FLAG]) == 0:
                    raise
                # Grow both heaps at once, to twice what the trees finished so far suggest
                # for all of them: untouched capacity costs no memory until it is written.
                done = max(int(lens[kern.L_PROG]), 1)
                share = len(out_roots) / done
                grown = []
                for heap, g in ((ib, kern.L_I), (fb, kern.L_F)):
                    used = int(lens[g]) - int(self.lens[g])
                    size = max(2 * len(heap), int(self.lens[g] + 2.0 * used * share)) + 4096
                    grown.append(_resized(heap, size, int(lens[g])))
                ib, fb = grown
                lens[kern.L_FLAG] = 0
        lens[kern.L_PROG] = 0
        if ib is self.heaps[0] or fb is self.heaps[1]:
            # a heap is still shared with this store: claim what the kernel wrote to it
            self._mark[0] = lens.copy()
            return ForestStore((ib, fb), lens, out_roots, self.live, self._mark), work
        return ForestStore((ib, fb), lens, out_roots, self.live), work

    # -- upkeep -----------------------------------------------------------------------------
    def sizes(self, params: np.ndarray) -> np.ndarray:
        """Words the trees use: node / header / entry / leaf-row integers, node / header /
        entry floats."""
        return np.asarray(kern.live_sizes(self.heaps[0], params, self.roots))

    def garbage_ratio(self) -> float:
        """Used words over the words the trees needed after the last compaction (worst heap)."""
        used = self.lens[: kern.L_FLAG].astype(float)
        return float(np.max(used / np.maximum(self.live, 4096)))

    def compacted(
        self, params: np.ndarray, keep: np.ndarray | None = None, spare: float = 1.5
    ) -> ForestStore:
        """The live part of every tree copied, in preorder, into fresh heaps.

        ``keep`` (statistics columns to keep) drops classes from every statistics block.
        """
        return merge([self], params, keep, spare)


def merge(
    stores: Sequence[ForestStore],
    params: np.ndarray,
    keep: np.ndarray | None = None,
    spare: float = 1.5,
) -> ForestStore:
    """The trees of ``stores``, in order, copied into one pair of fresh heaps."""
    if keep is None:
        keep = np.arange(int(params[kern.P_WI]), dtype=np.int64)
    ints = 0
    floats = 0
    for s in stores:
        sz = s.sizes(params)
        ints += int(sz[:4].sum())
        floats += int(sz[4:].sum())
    out = ForestStore.empty(int(ints * spare) + 4096, int(floats * spare) + 4096)
    lens = np.zeros(kern.N_LENS, np.int64)
    roots = [
        np.asarray(kern.compact(s.heaps[0], s.heaps[1], params, s.roots, keep, *out.heaps, lens))
        for s in stores
    ]
    live = lens[: kern.L_FLAG].astype(float)
    return ForestStore(out.heaps, lens, np.concatenate(roots), live)


def build_forest(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    params: np.ndarray,
    rows: np.ndarray,
    seeds: np.ndarray,
    n_jobs: int,
) -> tuple[ForestStore, int]:
    """Train every tree (in ``n_jobs`` threads); returns the store and the work done."""
    n = len(rows)
    n_trees = len(seeds)
    parts = max(1, min(n_jobs, n_trees))
    chunks = [c for c in np.array_split(np.arange(n_trees), parts) if len(c)]

    def grow(trees: np.ndarray) -> tuple[ForestStore, int]:
        t = len(trees)
        store = ForestStore.empty(t * (4 * n + 4096), t * (n + 4096))
        new, work = store.run(
            kern.forest_op, *data, params, kern.OP_BUILD, seeds[trees], rows, 0, n_roots=t
        )
        return new, int(work[kern.W_WORK])

    if len(chunks) == 1:
        store, work = grow(chunks[0])
    else:
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            results = list(pool.map(grow, chunks))
        store = merge([r[0] for r in results], params, spare=1.25)
        work = sum(r[1] for r in results)
    store.live = store.lens[: kern.L_FLAG].astype(float)
    return store, work
