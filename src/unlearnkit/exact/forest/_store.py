"""The heaps that hold a forest, and the versions of it that share them.

Updates change the trees in place: before a block of the heaps is first written, the kernel
records it in a journal. Each :class:`ForestStore` is one version of the forest over a
:class:`_Lineage` (the heaps and the journals between its versions). A store reads the heaps
through :attr:`ForestStore.heaps`, which first brings them to its own version by exchanging
journaled words (undo backward, redo forward): so a model restored after a failure by putting
its old attributes back, or a shallow copy of a model that has moved on, still sees its own
trees. The last :data:`KEEP_VERSIONS` journals are kept (fewer when they outgrow the trees);
a store older than that cannot be brought back and says so. An update that starts from a
store that is not its lineage's newest version, and an update that outgrows the heaps, write
into copies (a new lineage) and leave the original heaps as they were.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from unlearnkit.errors import SupersededStateError
from unlearnkit.exact.forest import _tree as kern

_HEAPS = (kern.L_I, kern.L_F)
#: Trees at most this deep are updated on the calling thread's stack.
SHALLOW_DEPTH = 500
#: Stack bytes reserved per tree level for deeper trees (a frame of the update is about 2 KiB).
_STACK_PER_LEVEL = 16 * 1024
#: How many earlier versions of a forest stay reachable from stores that share its heaps.
KEEP_VERSIONS = 4
#: Journal words a version may keep whatever the size of the heaps (1 MiB), so that small
#: forests keep their last states too.
JOURNAL_FLOOR_WORDS = 1 << 17
#: Heaps are reserved this many times the words their trees use (at a fit, per the rows it
#: trains on), so that the subtrees updates append rarely outgrow them before a compaction:
#: growing copies both heaps. Reserved words take no memory until they are written.
RESERVE = 4.5
_HEAP_FLAGS = (1 << int(kern.L_I)) | (1 << int(kern.L_F))
_JOURNAL_FLAG = 1 << int(kern.L_J)


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


def _reserved(size: int, least: int, dtype: type) -> np.ndarray:
    """An uninitialised array of ``size`` words, or of ``least`` where the system will not
    reserve that much address space."""
    try:
        return np.empty(size, dtype)
    except MemoryError:
        return np.empty(least, dtype)


def _resized(a: np.ndarray, size: int, used: int) -> np.ndarray:
    """A copy of the used part of ``a`` in a larger array (the rest is written before read)."""
    out = np.empty(size, dtype=a.dtype)
    out[:used] = a[:used]
    return out


class _Lineage:
    """Heaps shared by versions of a forest: the version they hold and the journals between
    versions (``journals[v]`` holds the words version ``v`` wrote over, in its first
    ``length`` words)."""

    __slots__ = ("current", "heaps", "journals", "lock", "newest", "spare")

    def __init__(self, heaps: tuple[np.ndarray, np.ndarray]) -> None:
        self.heaps = heaps
        self.current = 0
        self.newest = 0
        self.journals: dict[int, tuple[np.ndarray, int]] = {}
        self.spare: list[np.ndarray] = []
        self.lock = threading.RLock()

    def move_to(self, version: int) -> None:
        """Bring the heaps to ``version``, one journal at a time."""
        with self.lock:
            ib, fb = self.heaps
            while self.current != version:
                step = self.current if self.current > version else self.current + 1
                if step not in self.journals:
                    raise SupersededStateError(
                        f"This forest state was updated {self.newest - version} times since "
                        f"through a model that shares its trees, and only the last few states "
                        f"stay readable (at most {KEEP_VERSIONS}, fewer when their journals "
                        "outgrow the trees); refit the model or load a saved copy "
                        "(copy.deepcopy gives a copy with trees of its own)."
                    )
                journal, length = self.journals[step]
                backward = self.current > version
                kern.swap_journal(journal, 0, length, ib, fb, backward)
                self.current += -1 if backward else 1

    def commit(self, journal: np.ndarray, length: int) -> int:
        """Record the journal of a new version that the heaps now hold; returns its number.

        At most :data:`KEEP_VERSIONS` journals are kept, and older ones go first while the
        journals hold more words than the heaps (or JOURNAL_FLOOR_WORDS per kept version);
        the newest one always stays, so that a failed request can be undone. One dropped
        journal is kept for reuse.
        """
        self.newest += 1
        self.current = self.newest
        self.journals[self.newest] = (journal, length)
        limit = max(sum(len(h) for h in self.heaps), KEEP_VERSIONS * JOURNAL_FLOOR_WORDS)
        oldest = self.newest - KEEP_VERSIONS + 1
        kept = sum(len(j) for j, _ in self.journals.values())
        for v in sorted(self.journals):
            if v >= self.newest or (v >= oldest and kept <= limit):
                continue
            dropped = self.journals.pop(v)[0]
            kept -= len(dropped)
            if not self.spare or len(dropped) > len(self.spare[0]):
                self.spare = [dropped]
        return self.newest

    def buffer(self) -> np.ndarray:
        """A journal to write into: a dropped one when there is one, else one twice as long
        as the last journal."""
        if self.spare:
            return self.spare.pop()
        last = self.journals[self.newest][1] if self.newest in self.journals else 0
        return np.empty(max(1 << 16, 2 * last), np.int64)

    def journal_words(self) -> int:
        return sum(len(j) for j, _ in self.journals.values()) + sum(len(j) for j in self.spare)


class ForestStore:
    """One version of a forest: its heaps' used lengths and the root node of every tree."""

    __slots__ = ("lens", "lineage", "live", "roots", "version")

    def __init__(
        self,
        lineage: _Lineage,
        lens: np.ndarray,
        roots: np.ndarray,
        live: np.ndarray,
        version: int = 0,
    ) -> None:
        self.lineage = lineage
        self.lens = lens
        self.roots = roots
        self.live = live
        self.version = version

    @classmethod
    def empty(cls, ints: int, floats: int, reserve: float = 1.0) -> ForestStore:
        """A store with room for ``ints`` and ``floats`` words, ``reserve`` times that where
        the address space allows."""
        heaps = (
            _reserved(int(reserve * ints) + 4096, ints + 64, np.int64),
            _reserved(int(reserve * floats) + 4096, floats + 64, np.float64),
        )
        return cls(
            _Lineage(heaps), np.zeros(kern.N_LENS, np.int64), np.zeros(0, np.int64), np.zeros(2)
        )

    @property
    def heaps(self) -> tuple[np.ndarray, np.ndarray]:
        """The integer and float heaps, holding this version of the trees."""
        lineage = self.lineage
        if lineage.current != self.version:
            lineage.move_to(self.version)
        return lineage.heaps

    # -- pickling: only the used words ------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {
            "heaps": tuple(h[: self.lens[g]] for h, g in zip(self.heaps, _HEAPS, strict=True)),
            "lens": self.lens,
            "roots": self.roots,
            "live": self.live,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        ib, fb = (np.array(h, copy=True) for h in state["heaps"])
        self.lineage = _Lineage((ib, fb))
        self.lens = np.array(state["lens"], copy=True)
        self.roots = np.array(state["roots"], copy=True)
        self.live = np.array(state["live"], copy=True)
        self.version = 0

    # -- running kernels --------------------------------------------------------------------
    def run(
        self,
        kernel: Callable[..., Any],
        *args: Any,
        n_roots: int | None = None,
        depth: int = 0,
    ) -> tuple[ForestStore, np.ndarray]:
        """Run ``kernel(IB, FB, J, lens, *args, out_roots, work)`` until no array overflows.

        ``depth`` bounds the depth of the trees: updates recurse once per level, so deep trees
        run on a thread with a stack to match. Returns the new version and the work counters;
        if the kernel fails, the heaps are left holding this version.
        """
        if depth > SHALLOW_DEPTH:
            return _on_big_stack(lambda: self.run(kernel, *args, n_roots=n_roots), depth)
        lineage = self.lineage
        with lineage.lock:
            ib, fb = self.heaps
            own = self.version == lineage.newest
            if not own:  # a newer version lives in these heaps: branch off a copy
                heaps = zip((ib, fb), _HEAPS, strict=True)
                ib, fb = (_resized(h, len(h), int(self.lens[g])) for h, g in heaps)
            journal = lineage.buffer() if own else np.empty(1 << 16, np.int64)
            lens = self.lens.copy()
            lens[kern.L_FLAG :] = 0
            out_roots = np.full(len(self.roots) if n_roots is None else n_roots, -1, np.int64)
            work = np.zeros(kern.N_WORK, np.int64)
            try:
                while True:
                    try:
                        kernel(ib, fb, journal, lens, *args, out_roots, work)
                        break
                    except OverflowError:
                        flags = int(lens[kern.L_FLAG])
                        if flags == 0:
                            raise
                        # put the interrupted tree back as it was, then run it again
                        mark = int(lens[kern.L_JMARK])
                        kern.swap_journal(journal, mark, int(lens[kern.L_J]), ib, fb, True)
                        lens[kern.L_J] = mark
                        if flags & _JOURNAL_FLAG:
                            journal = _resized(journal, 2 * len(journal), mark)
                        if flags & _HEAP_FLAGS:
                            grown = self._grown(ib, fb, lens, len(out_roots))
                            if own:  # the copies keep the trees done; the originals go back
                                kern.swap_journal(journal, 0, mark, ib, fb, True)
                                own = False
                            ib, fb = grown
                            lens[kern.L_J] = 0
                        lens[kern.L_FLAG] = 0
            except BaseException:
                if own:
                    kern.swap_journal(journal, 0, int(lens[kern.L_J]), ib, fb, True)
                raise
            length = int(lens[kern.L_J])
            lens[kern.L_FLAG :] = 0
            if own:
                version = lineage.commit(journal, length)
                return ForestStore(lineage, lens, out_roots, self.live, version), work
            return ForestStore(_Lineage((ib, fb)), lens, out_roots, self.live), work

    def _grown(
        self, ib: np.ndarray, fb: np.ndarray, lens: np.ndarray, n_trees: int
    ) -> list[np.ndarray]:
        """Copies of both heaps, large enough for twice what the trees done so far suggest
        for all of them (untouched capacity costs no memory until it is written)."""
        done = max(int(lens[kern.L_PROG]), 1)
        share = n_trees / done
        grown = []
        for heap, g in ((ib, kern.L_I), (fb, kern.L_F)):
            used = int(lens[g]) - int(self.lens[g])
            size = max(2 * len(heap), int(self.lens[g] + 2.0 * used * share)) + 4096
            grown.append(_resized(heap, size, int(lens[g])))
        return grown

    # -- upkeep -----------------------------------------------------------------------------
    def sizes(self, params: np.ndarray) -> np.ndarray:
        """Words the trees use: node / header / entry / leaf-row integers, node / header /
        entry floats."""
        return np.asarray(kern.live_sizes(self.heaps[0], params, self.roots))

    def garbage_ratio(self) -> float:
        """Used words over the words the trees needed after the last compaction (worst heap)."""
        return max(
            int(self.lens[g]) / max(float(self.live[i]), 4096.0) for i, g in enumerate(_HEAPS)
        )

    def journal_bytes(self) -> int:
        """Bytes held by the journals that keep earlier versions readable."""
        return self.lineage.journal_words() * 8

    def compacted(
        self, params: np.ndarray, keep: np.ndarray | None = None, spare: float = RESERVE
    ) -> ForestStore:
        """The live part of every tree copied, in preorder, into fresh heaps.

        ``keep`` (statistics columns to keep) drops classes from every statistics block.
        """
        return merge([self], params, keep, spare)


def merge(
    stores: Sequence[ForestStore],
    params: np.ndarray,
    keep: np.ndarray | None = None,
    spare: float = RESERVE,
) -> ForestStore:
    """The trees of ``stores``, in order, copied into one pair of fresh heaps with room for
    ``spare`` times their words."""
    if keep is None:
        keep = np.arange(int(params[kern.P_WI]), dtype=np.int64)
    ints = 0
    floats = 0
    for s in stores:
        sz = s.sizes(params)
        ints += int(sz[:4].sum())
        floats += int(sz[4:].sum())
    out = ForestStore.empty(ints, floats, spare)
    lens = np.zeros(kern.N_LENS, np.int64)
    roots = [
        np.asarray(kern.compact(s.heaps[0], s.heaps[1], params, s.roots, keep, *out.heaps, lens))
        for s in stores
    ]
    live = lens[: kern.L_FLAG].astype(float)
    return ForestStore(out.lineage, lens, np.concatenate(roots), live)


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
        store = ForestStore.empty(t * (6 * n + 4096), t * (2 * n + 4096), RESERVE)
        new, work = store.run(
            kern.forest_op, *data, params, kern.OP_BUILD, seeds[trees], rows, 0, n_roots=t
        )
        return new, int(work[kern.W_WORK])

    if len(chunks) == 1:
        store, work = grow(chunks[0])
    else:
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            results = list(pool.map(grow, chunks))
        store = merge([r[0] for r in results], params)
        work = sum(r[1] for r in results)
    store.live = store.lens[: kern.L_FLAG].astype(float)
    return store, work
