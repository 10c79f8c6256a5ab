"""Numba kernels of the DaRE forests: trees with cached split statistics in two flat heaps.

A forest lives in two append-only heaps, ``IB`` (int64) and ``FB`` (float64). Every record
has an integer block in ``IB`` and, where it needs one, a float block in ``FB``:

* node: ``NI_HEAD`` integers (kind, split, attribute, children, depth, seed, sample count,
  where its leaf rows / headers / float block are, digest) followed by its statistics block;
  floats: threshold, the lower value of the chosen pair, statistics floats;
* header: one per non-constant attribute a greedy node examined (the node also records how
  many attributes of its order it examined), or per attribute a random node tried (``HIW``
  integers, one float: the attribute's largest value, or the drawn threshold); the headers of
  a node are contiguous;
* entries: the cached statistics of an attribute's candidate thresholds;
* leaf rows: the training rows that reached a leaf.

Updates change the trees in place: before a node, a block of headers, candidate entries or
leaf rows is first written, its words go to a journal ``J`` (records of the words, then which
heap and their spacing, the address and the count), so that :func:`swap_journal` can undo the
update and redo it. Retrained subtrees, re-examined attributes and grown blocks are appended
to the heaps. A heap or journal that runs out of room raises ``OverflowError`` after setting
its bit in ``lens[L_FLAG]``; the caller undoes the interrupted tree (its journal starts at
``lens[L_JMARK]``), grows the array and resumes from tree ``lens[L_PROG]``.

A statistics block is ``WI`` integers and ``WF`` floats: class counts for a classifier
(``WI = n_classes``, ``WF = 0``); for a regressor the count and the target sum held as a
double-double ``(hi, lo)`` (``WI = 1``, ``WF = 2``), so that sums do not depend on the order in
which samples were added and removed.
"""

from __future__ import annotations

import numpy as np
from numba import njit


# -- layout -----------------------------------------------------------------------------------
def _i64(value: int) -> int:
    """``value`` as a numpy int64: numba types such a global as int64, not as a literal, so a
    function called with it is compiled once rather than once per constant."""
    return np.int64(value)  # type: ignore[return-value]


# node integer block
KIND = _i64(0)
SPLIT = _i64(1)
FEAT = _i64(2)
LEFT = _i64(3)
RIGHT = _i64(4)
DEPTH = _i64(5)
SEED = _i64(6)
NN = _i64(7)
SSTART = _i64(8)
SLEN = _i64(9)
CSTART = _i64(10)
CFSTART = _i64(11)
CLEN = _i64(12)
CHOSEN = _i64(13)
HASH1 = _i64(14)
HASH2 = _i64(15)
FOFF = _i64(16)
SCANNED = _i64(17)
# the children a greedy node had before its split last changed, and their split attribute
# (PARK_V1 in the float block is its lower value): kept to take back when the split returns
PARK_LEFT = _i64(18)
PARK_RIGHT = _i64(19)
PARK_FEAT = _i64(20)
NI_HEAD = _i64(21)
# node float block
THR, V1, PARK_V1 = (_i64(0), _i64(1), _i64(2))
NF_HEAD = _i64(3)
# header (greedy) / trial (random) integer block; HNVMAX is the left count of a trial
HFEAT = _i64(0)
HSTATUS = _i64(1)
HESTART = _i64(2)
HEFSTART = _i64(3)
HELEN = _i64(4)
HKAPPA = _i64(5)
HNVMAX = _i64(6)
HNR = _i64(7)
HDRAW = _i64(8)
HIW = _i64(9)
#: A greedy node whose split returns to the one it had before takes back its former children
#: when at most one in ``REVIVE_RATIO`` of its rows left or joined them since (else retrains).
REVIVE_RATIO = _i64(8)
# node kinds
STATIC, GREEDY, RANDOM = (_i64(0), _i64(1), _i64(2))
# header / trial status
CONST, INVALID, VALID = (_i64(0), _i64(1), _i64(2))
# heap lengths and control words
L_I, L_F, L_FLAG, L_PROG = (_i64(0), _i64(1), _i64(2), _i64(3))
L_J, L_JMARK = (_i64(4), _i64(5))
N_LENS = _i64(6)
# parameters
P_P = _i64(0)
P_WI = _i64(1)
P_WF = _i64(2)
P_REG = _i64(3)
P_CRIT = _i64(4)
P_MAXD = _i64(5)
P_MSS = _i64(6)
P_MSL = _i64(7)
P_MF = _i64(8)
P_K = _i64(9)
P_TOPD = _i64(10)
P_NIW, P_NFW, P_EIW, P_EFW = (_i64(11), _i64(12), _i64(13), _i64(14))
N_P = _i64(15)
# update modes
DELETE, ADD, RELABEL, DROP = (_i64(0), _i64(1), _i64(2), _i64(3))
# criteria
GINI, ENTROPY, SQUARED = (_i64(0), _i64(1), _i64(2))
# work counters
W_WORK = _i64(0)
W_SUBTREES = _i64(1)
W_RESCANS = _i64(2)
W_NODES = _i64(3)
W_RESCAN_WORK = _i64(4)
W_REUSED = _i64(5)
N_WORK = _i64(6)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_PERM_SALT = np.uint64(0x243F6A8885A308D3)
_KEY_SALT = np.uint64(0x13198A2E03707344)
_UNIT_SALT = np.uint64(0xA4093822299F31D0)
_CHILD_SALT = np.uint64(0x082EFA98EC4E6C89)
_LANE1 = np.uint64(0x452821E638D01377)
_LANE2 = np.uint64(0xBE5466CF34E90C6C)
_ODD = np.uint64(0xC0AC29B7C97C50DD)
_INV53 = 1.0 / 9007199254740992.0
_EPS = 2.220446049250313e-16
_0 = _i64(0)
_1 = _i64(1)
_NEG1 = _i64(-1)

_jit = njit(cache=True, nogil=True)
_tiny = njit(cache=True, nogil=True)
#: Kernels that neither make nor keep arrays, compiled without numba's reference counting: a
#: call to them costs no atomic increment and decrement of every array argument (which took
#: about a tenth of a deletion when every per-node helper paid them). ``_nrt`` is numba's
#: switch for its runtime, absent from its type stubs.
_flat = njit(cache=True, nogil=True, _nrt=False)  # type: ignore[call-overload]
#: Small helpers compiled into their callers (no call per candidate, or per node of a path).
_inline = njit(cache=True, nogil=True, inline="always")


# -- hashing and per-node randomness ----------------------------------------------------------
@_tiny
def mix64(z: np.uint64) -> np.uint64:
    """The splitmix64 finaliser (a bijection of 64-bit words)."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_jit
def tree_seeds(seed: np.uint64, n: int) -> np.ndarray:
    """Seeds of the root nodes of ``n`` trees."""
    out = np.empty(n, np.int64)
    base = mix64(seed)
    for t in range(n):
        out[t] = np.int64(mix64(base ^ mix64(np.uint64(t) + _CHILD_SALT)))
    return out


@_tiny
def _child_seed(seed: np.uint64, side: int) -> np.uint64:
    return mix64(seed ^ (np.uint64(side + 1) * _CHILD_SALT))


@_jit
def _perm(p: int, seed: np.uint64) -> np.ndarray:
    """The node's attribute order: a permutation of ``0..p-1`` drawn from its seed."""
    perm = np.arange(p)
    state = mix64(seed ^ _PERM_SALT)
    for i in range(p - 1, 0, -1):
        state = state + _GOLDEN
        j = np.int64(mix64(state) % np.uint64(i + 1))
        tmp = perm[i]
        perm[i] = perm[j]
        perm[j] = tmp
    return perm


@_jit
def _value_keys(seed: np.uint64, f: int, values: np.ndarray, m: int) -> np.ndarray:
    """Keys ``h(node seed, attribute, value)`` of the first ``m`` of ``values``."""
    base = mix64(seed ^ mix64(np.uint64(f) ^ _KEY_SALT))
    bits = values.view(np.uint64)
    out = np.empty(m, np.uint64)
    for i in range(m):
        out[i] = mix64(base ^ bits[i])
    return out


@_tiny
def _unit(seed: np.uint64, f: int, draw: int) -> float:
    """A uniform number in [0, 1) for draw ``draw`` of attribute ``f`` at a node."""
    z = mix64(mix64(seed ^ mix64(np.uint64(f) ^ _UNIT_SALT)) + np.uint64(draw + 1) * _GOLDEN)
    return float(z >> _S11) * _INV53


@_tiny
def _grab(lens: np.ndarray, which: int, count: int, capacity: int) -> int:
    start = lens[which]
    if start + count > capacity:
        lens[L_FLAG] |= 1 << which
        raise OverflowError("heap full")
    lens[which] = start + count
    return start


@_inline
def _save_spaced(
    J: np.ndarray, lens: np.ndarray, A: np.ndarray, which: int, addr: int, count: int,
    step: int,
) -> None:  # fmt: skip
    """Record the ``count`` words ``A[addr + c * step]`` (``which``: 0 for ``IB``, 1 for
    ``FB``'s bits) in the journal before they are written over."""
    start = lens[L_J]
    if start + count + 3 > J.shape[0]:
        lens[L_FLAG] |= 1 << L_J
        raise OverflowError("journal full")
    for c in range(count):
        J[start + c] = A[addr + c * step]
    J[start + count] = which + 2 * step
    J[start + count + 1] = addr
    J[start + count + 2] = count
    lens[L_J] = start + count + 3


@_inline
def _save(
    J: np.ndarray, lens: np.ndarray, A: np.ndarray, which: int, addr: int, count: int
) -> None:
    """Record ``A[addr:addr + count]`` in the journal (see :func:`_save_spaced`)."""
    _save_spaced(J, lens, A, which, addr, count, _1)


@_flat
def _save_i(J: np.ndarray, lens: np.ndarray, IB: np.ndarray, addr: int, count: int) -> None:
    _save(J, lens, IB, _0, addr, count)


@_flat
def _save_f(J: np.ndarray, lens: np.ndarray, FB: np.ndarray, addr: int, count: int) -> None:
    _save(J, lens, FB.view(np.int64), _1, addr, count)


@_jit
def swap_journal(
    J: np.ndarray, start: int, end: int, IB: np.ndarray, FB: np.ndarray, backward: bool
) -> None:
    """Exchange the words recorded in ``J[start:end]`` with the heaps' words.

    Backward (last record first) this undoes the writes the records precede and leaves in
    the journal what they wrote; forward it then redoes them, and so on.
    """
    FI = FB.view(np.int64)
    n = 0
    pos = end
    while pos > start:
        pos -= J[pos - 1] + 3
        n += 1
    bases = np.empty(n, np.int64)
    counts = np.empty(n, np.int64)
    pos = end
    for i in range(n - 1, -1, -1):
        counts[i] = J[pos - 1]
        pos -= counts[i] + 3
        bases[i] = pos
    for i in range(n):
        j = n - 1 - i if backward else i
        base = bases[j]
        count = counts[j]
        code = J[base + count]
        A = IB if code & 1 == 0 else FI
        step = code >> 1
        addr = J[base + count + 1]
        for c in range(count):
            tmp = A[addr + c * step]
            A[addr + c * step] = J[base + c]
            J[base + c] = tmp


# -- sorting and searching (small kernels: numba's generic sorts are slow to compile) ---------
_SIGN = np.uint64(0x8000000000000000)
_BYTE = np.uint64(0xFF)


@_flat
def _sort_pairs(
    v: np.ndarray, ix: np.ndarray, n: int, bv: np.ndarray, bi: np.ndarray, count: np.ndarray
) -> None:
    """Sort ``v[:n]`` ascending in place, permuting ``ix`` alongside (stable; ``bv`` / ``bi``
    are scratch space of at least ``n``, ``count`` of 256 integers). Least-significant-digit
    radix sort on the bits of the floats made order-preserving; insertion sort for short
    runs."""
    if n <= 32:
        for i in range(1, n):
            x = v[i]
            y = ix[i]
            j = i - 1
            while j >= 0 and v[j] > x:
                v[j + 1] = v[j]
                ix[j + 1] = ix[j]
                j -= 1
            v[j + 1] = x
            ix[j + 1] = y
        return
    a = v.view(np.uint64)
    b = bv.view(np.uint64)
    for i in range(n):
        u = a[i]
        a[i] = ~u if u & _SIGN else u | _SIGN
    ai = ix
    bi_ = bi
    flipped = False
    for shift in range(0, 64, 8):
        sh = np.uint64(shift)
        count[:] = 0
        for i in range(n):
            count[np.int64((a[i] >> sh) & _BYTE)] += 1
        skip = False
        for c in range(256):
            if count[c] == n:
                skip = True
                break
            if count[c] > 0:
                break
        if skip:
            continue
        total = 0
        for c in range(256):
            cnt = count[c]
            count[c] = total
            total += cnt
        for i in range(n):
            u = a[i]
            d = np.int64((u >> sh) & _BYTE)
            o = count[d]
            b[o] = u
            bi_[o] = ai[i]
            count[d] = o + 1
        ta = a
        a = b
        b = ta
        ti = ai
        ai = bi_
        bi_ = ti
        flipped = not flipped
    out = v.view(np.uint64)
    for i in range(n):
        u = a[i]
        out[i] = u ^ _SIGN if u & _SIGN else ~u
    if flipped:
        for i in range(n):
            ix[i] = ai[i]


@_jit
def _k_smallest(keys: np.ndarray, m: int, k: int) -> tuple[np.ndarray, np.uint64]:
    """Positions of the ``k`` smallest of ``keys[:m]`` (ascending) and the largest of them."""
    heap = np.empty(k, np.int64)
    size = 0
    for i in range(m):
        if size < k:
            j = size
            size += 1
            while j > 0:
                parent = (j - 1) // 2
                if keys[heap[parent]] >= keys[i]:
                    break
                heap[j] = heap[parent]
                j = parent
            heap[j] = i
        elif keys[i] < keys[heap[0]]:
            j = 0
            while True:
                c = 2 * j + 1
                if c >= k:
                    break
                if c + 1 < k and keys[heap[c + 1]] > keys[heap[c]]:
                    c += 1
                if keys[heap[c]] <= keys[i]:
                    break
                heap[j] = heap[c]
                j = c
            heap[j] = i
    kappa = keys[heap[0]]
    for i in range(1, k):
        x = heap[i]
        j = i - 1
        while j >= 0 and heap[j] > x:
            heap[j + 1] = heap[j]
            j -= 1
        heap[j + 1] = x
    return heap, kappa


@_flat
def _contains(sorted_rows: np.ndarray, r: int) -> bool:
    lo = 0
    hi = sorted_rows.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_rows[mid] < r:
            lo = mid + 1
        else:
            hi = mid
    return lo < sorted_rows.shape[0] and sorted_rows[lo] == r


# -- statistics blocks ------------------------------------------------------------------------
@_flat
def _dd_add(F: np.ndarray, o: int, x: float) -> None:
    """Add ``x`` to the double-double ``(F[o], F[o + 1])``."""
    hi = F[o]
    s = hi + x
    bb = s - hi
    e = (hi - (s - bb)) + (x - bb)
    e = e + F[o + 1]
    h = s + e
    F[o + 1] = e - (h - s)
    F[o] = h


@_flat
def _acc(
    IS: np.ndarray, io: int, F: np.ndarray, fo: int, reg: bool, Y: np.ndarray, R: np.ndarray,
    side: int, r: int, sign: int,
) -> None:  # fmt: skip
    """Add (``sign=1``) or remove (-1) row ``r``'s contribution, with targets of ``side``
    (0: before the update, 1: after it)."""
    if reg:
        IS[io] += sign
        _dd_add(F, fo, sign * R[side, r])
    else:
        IS[io + Y[side, r]] += sign


@_flat
def _acc_mode(
    IS: np.ndarray, io: int, F: np.ndarray, fo: int, reg: bool, Y: np.ndarray, R: np.ndarray,
    r: int, mode: int,
) -> None:  # fmt: skip
    """Apply the change an update makes to row ``r`` (remove, add or relabel)."""
    if mode != ADD:
        _acc(IS, io, F, fo, reg, Y, R, _0, r, _NEG1)
    if mode != DELETE:
        _acc(IS, io, F, fo, reg, Y, R, _1, r, _1)


@_flat
def _add_block(
    IS: np.ndarray, io: int, F: np.ndarray, fo: int, J: np.ndarray, jo: int, G: np.ndarray,
    go: int, WI: int, WF: int,
) -> None:  # fmt: skip
    """Add statistics block ``(J, G)`` into block ``(IS, F)``."""
    for c in range(WI):
        IS[io + c] += J[jo + c]
    if WF > 0:
        _dd_add(F, fo, G[go])
        _dd_add(F, fo, G[go + 1])


@_flat
def _cnt(IS: np.ndarray, o: int, reg: bool, WI: int) -> int:
    if reg:
        return IS[o]
    s = 0
    for c in range(WI):
        s += IS[o + c]
    return s


@_flat
def _pure(IS: np.ndarray, o: int, WI: int) -> int:
    """The only class present in a block, or -1 when there are several (or none)."""
    found = -1
    for c in range(WI):
        if IS[o + c] > 0:
            if found >= 0:
                return -1
            found = c
    return found


@_flat
def _valid(
    P: np.ndarray, nL: int, n: int, I1: np.ndarray, o1: int, I2: np.ndarray, o2: int
) -> bool:
    """DaRE's valid threshold between adjacent value groups ``g1 < g2``.

    Both sides keep ``min_samples_leaf`` samples and (classification) the two groups are not
    pure in one and the same class.
    """
    msl = P[P_MSL]
    if nL < msl or n - nL < msl:
        return False
    if P[P_REG] == 1:
        return True
    c1 = _pure(I1, o1, P[P_WI])
    return c1 < 0 or _pure(I2, o2, P[P_WI]) != c1


@_inline
def _entry_groups(IB: np.ndarray, e: int, WI: int) -> tuple[int, int, int, int, int]:
    """A classifier's sampled entry at ``e``: the count left of it, the sizes of its two value
    groups and the class each group is pure in (-1: several classes or none)."""
    nl = 0
    n1 = 0
    n2 = 0
    p1 = -1
    p2 = -1
    for c in range(WI):
        nl += IB[e + c]
        a = IB[e + WI + c]
        z = IB[e + 2 * WI + c]
        if a > 0:
            p1 = c if n1 == 0 else -1
            n1 += a
        if z > 0:
            p2 = c if n2 == 0 else -1
            n2 += z
    return nl, n1, n2, p1, p2


@_inline
def _class_valid(nl: int, n: int, msl: int, p1: int, p2: int) -> bool:
    """:func:`_valid` for a classifier's sampled entry from :func:`_entry_groups`."""
    return nl >= msl and n - nl >= msl and (p1 < 0 or p2 != p1)


@_inline
def _beats(s: float, f: int, v1: float, best: float, bf: int, bv1: float) -> bool:
    """Whether candidate ``(s, f, v1)`` wins over the best so far: lower score, then lower
    attribute, then lower value (the order every greedy node chooses by)."""
    return s < best or (s == best and s < np.inf and (f < bf or (f == bf and v1 < bv1)))


@_inline
def _class_score(
    LI: np.ndarray, lo: int, TI: np.ndarray, WI: int, nL: int, nR: int, gini: bool
) -> float:
    """Gini (``nL gini(left) + nR gini(right)``) or entropy score of a classifier's split."""
    if gini:
        sl2 = 0
        sr2 = 0
        for c in range(WI):
            a = LI[lo + c]
            b = TI[c] - a
            sl2 += a * a
            sr2 += b * b
        return (nL - sl2 / nL) + (nR - sr2 / nR)
    out = 0.0
    for c in range(WI):
        a = LI[lo + c]
        b = TI[c] - a
        if a > 0:
            out -= a * np.log(a / nL)
        if b > 0:
            out -= b * np.log(b / nR)
    return out


@_flat
def _score(
    P: np.ndarray, LI: np.ndarray, lo: int, LF: np.ndarray, lfo: int, TI: np.ndarray,
    TF: np.ndarray, n: int, nL: int,
) -> float:  # fmt: skip
    """Split score, lower is better (``inf`` for a regression split that separates nothing).

    Gini: ``nL * gini(left) + nR * gini(right)``; entropy likewise; squared error: minus the
    between-children sum of squares ``nL nR / n (mean_L - mean_R)^2``.
    """
    nR = n - nL
    crit = P[P_CRIT]
    if crit == SQUARED:
        sl = LF[lfo]
        s = TF[0] - sl
        bb = s - TF[0]
        e = (TF[0] - (s - bb)) + (-sl - bb)
        sr = s + (e + (TF[1] - LF[lfo + 1]))
        ml = sl / nL
        mr = sr / nR
        diff = ml - mr
        if abs(diff) <= 8.0 * _EPS * max(abs(ml), abs(mr)):
            return np.inf
        return -(nL * (nR / n)) * diff * diff
    return _class_score(LI, lo, TI, P[P_WI], nL, nR, crit == GINI)


@_tiny
def _threshold(v1: float, v2: float) -> float:
    """Midpoint of adjacent values ``v1 < v2``, with ``v1 <= t < v2``."""
    t = v1 * 0.5 + v2 * 0.5
    if t >= v2 or t < v1:
        t = v1
    return t


@_flat
def _is_static(P: np.ndarray, n: int, TI: np.ndarray, depth: int) -> bool:
    """A node that is a leaf whatever its data: depth, size or (classification) purity."""
    maxd = P[P_MAXD]
    if maxd >= 0 and depth >= maxd:
        return True
    if n < P[P_MSS] or n < 2 * P[P_MSL]:
        return True
    return P[P_REG] == 0 and _pure(TI, _0, P[P_WI]) >= 0


# -- greedy nodes -----------------------------------------------------------------------------
@_flat
def _hist_any_valid(IB: np.ndarray, P: np.ndarray, ei: int, d: int, n: int) -> bool:
    reg, WI = P[P_REG] == 1, P[P_WI]
    nL = 0
    for j in range(d - 1):
        e = ei + j * WI
        nL += _cnt(IB, e, reg, WI)
        if _valid(P, nL, n, IB, e, IB, e + WI):
            return True
    return False


@_flat
def _k_any_valid(IB: np.ndarray, P: np.ndarray, ei: int, m: int, n: int) -> bool:
    reg, WI, EIW = P[P_REG] == 1, P[P_WI], P[P_EIW]
    for j in range(m):
        e = ei + j * EIW
        if _valid(P, _cnt(IB, e, reg, WI), n, IB, e + WI, IB, e + 2 * WI):
            return True
    return False


@_flat
def _write_headers(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, hi: np.ndarray, hf: np.ndarray, nh: int
) -> tuple[int, int]:
    cs = _grab(lens, L_I, nh * HIW, IB.shape[0])
    cfs = _grab(lens, L_F, nh, FB.shape[0])
    for j in range(nh):
        for c in range(HIW):
            IB[cs + j * HIW + c] = hi[j, c]
        FB[cfs + j] = hf[j]
    return cs, cfs


@_flat
def _gather_values(
    Xt: np.ndarray, f: int, rows: np.ndarray, vals: np.ndarray
) -> tuple[int, float, float]:
    """Copy attribute ``f`` of ``rows`` into ``vals``; returns how many distinct values it has
    (1, 2, or 3 for more) and, when it has two, the lower and the upper one."""
    lo = Xt[f, rows[0]]
    hi = lo
    values = 1
    for i in range(rows.shape[0]):
        v = Xt[f, rows[i]]
        vals[i] = v
        if v != lo and v != hi:
            if values == 1:
                values = 2
                if v < lo:
                    lo = v
                else:
                    hi = v
            else:
                values = 3
    return values, lo, hi


@_flat
def _value_groups(
    rows: np.ndarray, Y: np.ndarray, R: np.ndarray, reg: bool, WI: int, WF: int,
    vals: np.ndarray, values: int, lo: float, hi: float, srows: np.ndarray, bv: np.ndarray,
    bi: np.ndarray, count: np.ndarray, gv: np.ndarray, GI: np.ndarray, GF: np.ndarray,
) -> int:  # fmt: skip
    """Distinct values of an attribute gathered by :func:`_gather_values` (``values``, ``lo``,
    ``hi`` are what it returned; two or more values) in ascending order in ``gv``, and the
    statistics of each value group (in ``GI``/``GF``); returns their number. ``srows``,
    ``bv``, ``bi`` and ``count`` are scratch space (see :func:`_sort_pairs`)."""
    n = rows.shape[0]
    if values == 2:
        # two values (one-hot and binary attributes): no sorting needed
        gv[0] = lo
        gv[1] = hi
        for c in range(2 * WI):
            GI[c] = 0
        for c in range(2 * WF):
            GF[c] = 0.0
        for i in range(n):
            r = rows[i]
            g = 0 if vals[i] == lo else 1
            if reg:
                GI[g] += 1
                _dd_add(GF, g * WF, R[1, r])
            else:
                GI[g * WI + Y[1, r]] += 1
        return 2
    for i in range(n):
        srows[i] = rows[i]
    _sort_pairs(vals, srows, n, bv, bi, count)
    d = 0
    gv[0] = vals[0]
    for c in range(WI):
        GI[c] = 0
    for c in range(WF):
        GF[c] = 0.0
    for i in range(n):
        if vals[i] != gv[d]:
            d += 1
            gv[d] = vals[i]
            for c in range(WI):
                GI[d * WI + c] = 0
            for c in range(WF):
                GF[d * WF + c] = 0.0
        r = srows[i]
        if reg:
            GI[d] += 1
            _dd_add(GF, d * WF, R[1, r])
        else:
            GI[d * WI + Y[1, r]] += 1
    return d + 1


@_flat
def _write_hist(
    IB: np.ndarray, FB: np.ndarray, ei: int, ef: int, gv: np.ndarray, GI: np.ndarray,
    GF: np.ndarray, d: int, WI: int, WF: int,
) -> None:  # fmt: skip
    """Entries of a value histogram: each value and its group's statistics."""
    EFW = 1 + WF
    for j in range(d):
        FB[ef + j * EFW] = gv[j]
        for c in range(WI):
            IB[ei + j * WI + c] = GI[j * WI + c]
        for c in range(WF):
            FB[ef + j * EFW + 1 + c] = GF[j * WF + c]


@_flat
def _write_sampled(
    IB: np.ndarray, FB: np.ndarray, ei: int, ef: int, gv: np.ndarray, GI: np.ndarray,
    GF: np.ndarray, sel: np.ndarray, m: int, WI: int, WF: int, LI: np.ndarray, LF: np.ndarray,
) -> None:  # fmt: skip
    """Entries of the sampled values ``sel``: the pair, the statistics left of it, and of both
    value groups."""
    EIW = 3 * WI
    EFW = 2 + 3 * WF
    ne = sel.shape[0]
    for c in range(WI):
        LI[c] = 0
    for c in range(WF):
        LF[c] = 0.0
    j = 0
    for g in range(m):
        for c in range(WI):
            LI[c] += GI[g * WI + c]
        if WF > 0:
            _dd_add(LF, _0, GF[g * WF])
            _dd_add(LF, _0, GF[g * WF + 1])
        if j < ne and sel[j] == g:
            e = ei + j * EIW
            fe = ef + j * EFW
            FB[fe] = gv[g]
            FB[fe + 1] = gv[g + 1]
            for c in range(WI):
                IB[e + c] = LI[c]
                IB[e + WI + c] = GI[g * WI + c]
                IB[e + 2 * WI + c] = GI[(g + 1) * WI + c]
            for c in range(WF):
                FB[fe + 2 + c] = LF[c]
                FB[fe + 2 + WF + c] = GF[g * WF + c]
                FB[fe + 2 + 2 * WF + c] = GF[(g + 1) * WF + c]
            j += 1


@_jit
def _sum_rows(
    rows: np.ndarray, Y: np.ndarray, R: np.ndarray, reg: bool, WI: int, WF: int
) -> tuple[np.ndarray, np.ndarray]:
    """Statistics block of ``rows`` (targets after the update)."""
    TI = np.zeros(WI, np.int64)
    TF = np.zeros(WF)
    for i in range(rows.shape[0]):
        r = rows[i]
        if reg:
            TI[0] += 1
            _dd_add(TF, _0, R[1, r])
        else:
            TI[Y[1, r]] += 1
    return TI, TF


@_jit
def _workspace(n: int, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scratch space for scanning nodes of up to ``n`` rows."""
    WI, WF = P[P_WI], P[P_WF]
    # a classifier's sampled candidates (:func:`_scan_sampled`): a heap of ``k + 2`` keys and
    # values, and per candidate three blocks of counts and one value
    kk = max(P[P_K], 0) + 2
    ints = 2 * n + n * WI + WI + 256 + 3 * kk * WI + kk
    floats = 3 * n + n * WF + WF + 3 * kk
    return np.empty(ints, np.int64), np.empty(floats)


@_flat
def _bottom_keys(
    vals: np.ndarray, n: int, base: np.uint64, hk: np.ndarray, hv: np.ndarray
) -> tuple[int, float, int]:  # fmt: skip
    """The distinct values of ``vals[:n]`` with the ``len(hk)`` smallest keys
    ``mix64(base ^ bits)``, as a max-heap of keys ``hk`` and values ``hv`` (one pass, no
    sorting); returns how many it holds, the largest value and how many times it occurs."""
    cap = hk.shape[0]
    bits = vals.view(np.uint64)
    size = 0
    vmax = vals[0]
    nvmax = 0
    for i in range(n):
        v = vals[i]
        if v > vmax:
            vmax = v
            nvmax = 1
        elif v == vmax:
            nvmax += 1
        key = mix64(base ^ bits[i])
        if size == cap and key >= hk[0]:
            continue
        seen = False
        for j in range(size):
            if hk[j] == key:
                seen = True
                break
        if seen:
            continue
        if size < cap:
            j = size
            size += 1
            while j > 0:
                parent = (j - 1) // 2
                if hk[parent] >= key:
                    break
                hk[j] = hk[parent]
                hv[j] = hv[parent]
                j = parent
        else:
            j = 0
            while True:
                c = 2 * j + 1
                if c >= cap:
                    break
                if c + 1 < cap and hk[c + 1] > hk[c]:
                    c += 1
                if hk[c] <= key:
                    break
                hk[j] = hk[c]
                hv[j] = hv[c]
                j = c
        hk[j] = key
        hv[j] = v
    return size, vmax, nvmax


@_flat
def _sampled_counts(
    IB: np.ndarray, FB: np.ndarray, ei: int, ef: int, vals: np.ndarray, rows: np.ndarray,
    Y: np.ndarray, sv: np.ndarray, ne: int, WI: int, EIW: int, EFW: int, BC: np.ndarray,
    EQ: np.ndarray, MC: np.ndarray, MN: np.ndarray,
) -> None:  # fmt: skip
    """Entries of a classifier's sampled values ``sv[:ne]`` (ascending; ``sv[ne]`` is
    infinite) in one pass over the node's values: the rows are counted by class in the
    interval ``(sv[b - 1], sv[b]]`` they fall in (``BC``), at ``sv[b]`` itself (``EQ``) and at
    the smallest value of the interval (``MN``, ``MC``), which is the next value of
    ``sv[b - 1]``."""
    for c in range((ne + 1) * WI):
        BC[c] = 0
        EQ[c] = 0
        MC[c] = 0
    for b in range(ne + 1):
        MN[b] = np.inf
    for i in range(rows.shape[0]):
        v = vals[i]
        cl = Y[1, rows[i]]
        b = 0
        for j in range(ne):
            b += v > sv[j]
        BC[b * WI + cl] += 1
        EQ[b * WI + cl] += v == sv[b]
        if v < MN[b]:
            MN[b] = v
            for c in range(WI):
                MC[b * WI + c] = 0
            MC[b * WI + cl] = 1
        elif v == MN[b]:
            MC[b * WI + cl] += 1
    for j in range(ne):
        e = ei + j * EIW
        fe = ef + j * EFW
        FB[fe] = sv[j]
        FB[fe + 1] = MN[j + 1]
        for c in range(WI):
            if j > 0:
                BC[j * WI + c] += BC[(j - 1) * WI + c]
            IB[e + c] = BC[j * WI + c]
            IB[e + WI + c] = EQ[j * WI + c]
            IB[e + 2 * WI + c] = MC[(j + 1) * WI + c]


@_jit
def _scan_sampled(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, Y: np.ndarray, P: np.ndarray,
    rows: np.ndarray, seed: np.uint64, f: int, vals: np.ndarray, WSI: np.ndarray,
    WSF: np.ndarray, hrow: np.ndarray,
) -> tuple[bool, float]:  # fmt: skip
    """:func:`_scan_attribute` for a classifier's sampled candidates on an attribute with
    three or more values gathered in ``vals``, without sorting them: the same entries and
    header fields from two passes (:func:`_bottom_keys`, :func:`_sampled_counts`).

    The ``k + 2`` distinct values with the smallest keys tell whether the attribute has more
    than ``k`` non-maximal values; if so, the sample is the ``k`` of them with the smallest
    keys other than the largest value, else every value but the largest.
    """
    WI, k, EIW, EFW = P[P_WI], P[P_K], P[P_EIW], P[P_EFW]
    n = rows.shape[0]
    kk = k + 2
    hk = WSI[:kk].view(np.uint64)
    BC = WSI[kk : kk + kk * WI]
    EQ = WSI[kk + kk * WI : kk + 2 * kk * WI]
    MC = WSI[kk + 2 * kk * WI : kk + 3 * kk * WI]
    hv = WSF[:kk]
    sv = WSF[kk : 2 * kk]
    MN = WSF[2 * kk : 3 * kk]
    base = mix64(seed ^ mix64(np.uint64(f) ^ _KEY_SALT))
    size, vmax, nvmax = _bottom_keys(vals, n, base, hk, hv)
    hrow[HFEAT] = f
    hrow[HKAPPA] = -1
    hrow[HNVMAX] = nvmax
    hrow[HNR] = 0
    hrow[HDRAW] = 0
    # the heap's values other than the largest, by ascending key (insertion sort: few)
    ne = 0
    for j in range(size):
        if hv[j] == vmax:
            continue
        key = hk[j]
        v = hv[j]
        i = ne
        while i > 0 and hk[i - 1] > key:
            hk[i] = hk[i - 1]
            hv[i] = hv[i - 1]
            i -= 1
        hk[i] = key
        hv[i] = v
        ne += 1
    if size == kk:
        # more than ``k`` non-maximal values: the ``k`` with the smallest keys
        ne = k
        hrow[HKAPPA] = np.int64(hk[k - 1])
    for j in range(ne):
        v = hv[j]
        i = j
        while i > 0 and sv[i - 1] > v:
            sv[i] = sv[i - 1]
            i -= 1
        sv[i] = v
    sv[ne] = np.inf  # above every value: rows past the last sampled value count at none
    ei = _grab(lens, L_I, ne * EIW, IB.shape[0])
    ef = _grab(lens, L_F, ne * EFW, FB.shape[0])
    _sampled_counts(IB, FB, ei, ef, vals, rows, Y, sv, ne, WI, EIW, EFW, BC, EQ, MC, MN)
    hrow[HESTART] = ei
    hrow[HEFSTART] = ef
    hrow[HELEN] = ne
    hrow[HSTATUS] = VALID if _k_any_valid(IB, P, ei, ne, n) else INVALID
    return True, vmax


@_jit
def _scan_attribute(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, Xt: np.ndarray, Y: np.ndarray,
    R: np.ndarray, P: np.ndarray, rows: np.ndarray, seed: np.uint64, f: int,
    WSI: np.ndarray, WSF: np.ndarray, hrow: np.ndarray,
) -> tuple[bool, float]:  # fmt: skip
    """Candidate thresholds of attribute ``f`` on ``rows``: writes their entries and the
    header fields into ``hrow``; returns False when the attribute is constant, and its
    largest value.

    With ``k`` None the entries are every distinct value and its statistics (the candidates
    are then all valid thresholds between adjacent values); otherwise, for the ``k``
    non-maximal distinct values with the smallest keys ``h(node seed, attribute, value)``, the
    pair ``(v, next value)`` with the statistics left of it and of both value groups (found
    without sorting for a classifier's attribute with three or more values:
    :func:`_scan_sampled`).
    """
    WI, WF, reg, k, EIW, EFW = P[P_WI], P[P_WF], P[P_REG] == 1, P[P_K], P[P_EIW], P[P_EFW]
    n = rows.shape[0]
    vals = WSF[:n]
    values, lo, hi = _gather_values(Xt, f, rows, vals)
    if values == 1:
        return False, vals[0]
    if values == 3 and k >= 0 and not reg:
        return _scan_sampled(IB, FB, lens, Y, P, rows, seed, f, vals, WSI, WSF[n:], hrow)
    # the sorting path's scratch space (after the values in ``WSF``)
    o = 0
    srows = WSI[o : o + n]
    o += n
    bi = WSI[o : o + n]
    o += n
    GI = WSI[o : o + n * WI]
    o += n * WI
    LI = WSI[o : o + WI]
    o += WI
    count = WSI[o : o + 256]
    o = n
    bv = WSF[o : o + n]
    o += n
    gv = WSF[o : o + n]
    o += n
    GF = WSF[o : o + n * WF]
    o += n * WF
    LF = WSF[o : o + WF]
    d = _value_groups(
        rows, Y, R, reg, WI, WF, vals, values, lo, hi, srows, bv, bi, count, gv, GI, GF
    )
    hrow[HFEAT] = f
    hrow[HKAPPA] = -1
    hrow[HNVMAX] = _cnt(GI, (d - 1) * WI, reg, WI)
    hrow[HNR] = 0
    hrow[HDRAW] = 0
    if k < 0:
        ne = d
        ei = _grab(lens, L_I, d * EIW, IB.shape[0])
        ef = _grab(lens, L_F, d * EFW, FB.shape[0])
        _write_hist(IB, FB, ei, ef, gv, GI, GF, d, WI, WF)
        ok = _hist_any_valid(IB, P, ei, d, n)
    else:
        m = d - 1
        if m <= k:
            sel = np.arange(m)
        else:
            keys = _value_keys(seed, f, gv, m)
            sel, kappa = _k_smallest(keys, m, k)
            hrow[HKAPPA] = np.int64(kappa)
        ne = sel.shape[0]
        ei = _grab(lens, L_I, ne * EIW, IB.shape[0])
        ef = _grab(lens, L_F, ne * EFW, FB.shape[0])
        _write_sampled(IB, FB, ei, ef, gv, GI, GF, sel, m, WI, WF, LI, LF)
        ok = _k_any_valid(IB, P, ei, ne, n)
    hrow[HESTART] = ei
    hrow[HEFSTART] = ef
    hrow[HELEN] = ne
    hrow[HSTATUS] = VALID if ok else INVALID
    return True, gv[d - 1]


@_jit
def _scan_greedy(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, Xt: np.ndarray, Y: np.ndarray,
    R: np.ndarray, P: np.ndarray, rows: np.ndarray, seed: np.uint64, const: np.ndarray,
    WSI: np.ndarray, WSF: np.ndarray,
) -> tuple[int, int, int, int]:  # fmt: skip
    """Examine attributes in the node's order until ``max_features`` have a valid threshold.

    ``const`` flags attributes known to be constant on ``rows`` (constant at an ancestor);
    the attributes found constant here are flagged in it too. ``WSI`` / ``WSF`` are scratch
    space from :func:`_workspace` for at least ``len(rows)`` rows. Writes one header per
    non-constant examined attribute (see :func:`_scan_attribute`); returns the headers, their
    number and how many attributes of the order were examined.
    """
    p, mf = P[P_P], P[P_MF]
    perm = _perm(p, seed)
    hi = np.empty((p, HIW), np.int64)
    hf = np.empty(p)
    nh = 0
    usable = 0
    scanned = p
    for pi in range(p):
        f = perm[pi]
        if const[f]:
            continue
        varies, vmax = _scan_attribute(IB, FB, lens, Xt, Y, R, P, rows, seed, f, WSI, WSF, hi[nh])
        if not varies:
            const[f] = True
            continue
        hf[nh] = vmax
        nh += 1
        if hi[nh - 1, HSTATUS] == VALID:
            usable += 1
            if usable >= mf:
                scanned = pi + 1
                break
    cs, cfs = _write_headers(IB, FB, lens, hi, hf, nh)
    return cs, cfs, nh, scanned


@_inline
def _header(IB: np.ndarray, h: int) -> tuple[bool, int, int, int, int]:
    """Header ``h``: whether it has a valid threshold, its attribute, where its entries' integer
    and float words start and how many entries it has."""
    return IB[h + HSTATUS] == VALID, IB[h + HFEAT], IB[h + HESTART], IB[h + HEFSTART], IB[h + HELEN]


@_jit
def _best_greedy(
    IB: np.ndarray, FB: np.ndarray, P: np.ndarray, cs: int, nh: int, TI: np.ndarray,
    TF: np.ndarray, n: int,
) -> tuple[int, float, float]:  # fmt: skip
    """Best cached candidate: lowest score, then lowest attribute, then lowest threshold.

    Returns the header position (-1: no candidate) and the chosen pair of values.
    """
    WI, WF, reg, k, EIW, EFW = P[P_WI], P[P_WF], P[P_REG] == 1, P[P_K], P[P_EIW], P[P_EFW]
    msl = P[P_MSL]
    gini = P[P_CRIT] == GINI
    # running left statistics of a histogram (``k`` None); none needed for sampled candidates
    if k < 0:
        LI = np.zeros(WI, np.int64)
        LF = np.zeros(WF)
    else:
        LI = IB[:0]
        LF = FB[:0]
    best = np.inf
    bf = -1
    bj = -1
    bv1 = 0.0
    bv2 = 0.0
    for j in range(nh):
        valid, f, ei, ef, ne = _header(IB, cs + j * HIW)
        if not valid:
            continue
        if k < 0:
            LI[:] = 0
            LF[:] = 0.0
            nL = 0
            for g in range(ne - 1):
                e = ei + g * EIW
                fe = ef + g * EFW
                _add_block(LI, _0, LF, _0, IB, e, FB, fe + 1, WI, WF)
                nL += _cnt(IB, e, reg, WI)
                if not _valid(P, nL, n, IB, e, IB, e + EIW):
                    continue
                s = _score(P, LI, _0, LF, _0, TI, TF, n, nL)
                v1 = FB[fe]
                if _beats(s, f, v1, best, bf, bv1):
                    best, bf, bj, bv1, bv2 = s, f, j, v1, FB[fe + EFW]
        elif reg:
            for g in range(ne):
                e = ei + g * EIW
                fe = ef + g * EFW
                nL = _cnt(IB, e, reg, WI)
                if not _valid(P, nL, n, IB, e + WI, IB, e + 2 * WI):
                    continue
                s = _score(P, IB, e, FB, fe + 2, TI, TF, n, nL)
                v1 = FB[fe]
                if _beats(s, f, v1, best, bf, bv1):
                    best, bf, bj, bv1, bv2 = s, f, j, v1, FB[fe + 1]
        else:
            # a classifier's sampled candidates: :func:`_valid` and :func:`_score` compiled in
            for g in range(ne):
                e = ei + g * EIW
                fe = ef + g * EFW
                nL, _n1, _n2, p1, p2 = _entry_groups(IB, e, WI)
                nR = n - nL
                if not _class_valid(nL, n, msl, p1, p2):
                    continue
                s = _class_score(IB, e, TI, WI, nL, nR, gini)
                v1 = FB[fe]
                if _beats(s, f, v1, best, bf, bv1):
                    best, bf, bj, bv1, bv2 = s, f, j, v1, FB[fe + 1]
    return bj, bv1, bv2


# -- random nodes -----------------------------------------------------------------------------
@_flat
def _min_max(Xt: np.ndarray, f: int, rows: np.ndarray) -> tuple[float, float]:
    mn = Xt[f, rows[0]]
    mx = mn
    for i in range(1, rows.shape[0]):
        v = Xt[f, rows[i]]
        if v < mn:
            mn = v
        elif v > mx:
            mx = v
    return mn, mx


@_flat
def _count_le(Xt: np.ndarray, f: int, rows: np.ndarray, t: float) -> int:
    c = 0
    for i in range(rows.shape[0]):
        if Xt[f, rows[i]] <= t:
            c += 1
    return c


@_jit
def _random_trials(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, Xt: np.ndarray, P: np.ndarray,
    rows: np.ndarray, seed: np.uint64, ocs: int, ocfs: int, ont: int, batch: np.ndarray,
    mode: int,
) -> tuple[int, int, int, int]:  # fmt: skip
    """Draw (or redraw) a random node's attribute / threshold trials on ``rows``.

    Attributes are tried in the node's order; a trial draws ``t`` uniformly in ``[min, max)``
    of the attribute at the node and is accepted when both sides keep ``min_samples_leaf``
    samples. Old trials (``ont > 0``) keep their draw where the new range allows it: after
    removals if ``t`` is still inside, after additions with probability ``old range / new
    range`` (else ``t`` moves uniformly into the added part); otherwise they redraw. So every
    trial stays uniform on its attribute's current range. Returns the trials' headers, their
    number and the accepted position (-1: none).
    """
    p, msl = P[P_P], P[P_MSL]
    n = rows.shape[0]
    perm = _perm(p, seed)
    hi = np.zeros((p, HIW), np.int64)
    hf = np.zeros(p)
    chosen = -1
    old_rows = rows
    if mode == ADD and ont > 0:
        keep = np.ones(n, np.bool_)
        for i in range(n):
            if _contains(batch, rows[i]):
                keep[i] = False
        old_rows = rows[keep]
    nt = 0
    for pi in range(p):
        f = perm[pi]
        mn, mx = _min_max(Xt, f, rows)
        j = nt
        nt += 1
        hi[j, HFEAT] = f
        hi[j, HESTART] = -1
        hi[j, HEFSTART] = -1
        hi[j, HKAPPA] = -1
        draw = 0
        if pi < ont:
            draw = IB[ocs + pi * HIW + HDRAW]
        hi[j, HDRAW] = draw
        if mn == mx:
            hi[j, HSTATUS] = CONST
            hi[j, HNVMAX] = n
            hf[j] = mn
            continue
        if pi < ont:
            t = FB[ocfs + pi]
            if IB[ocs + pi * HIW + HSTATUS] == CONST:
                draw += 1
                t = mn + _unit(seed, f, draw) * (mx - mn)
            elif mode == ADD:
                omn, omx = _min_max(Xt, f, old_rows)
                draw += 1
                u = _unit(seed, f, draw)
                ratio = (omx - omn) / (mx - mn)
                if u >= ratio:
                    z = (u - ratio) / (1.0 - ratio) * ((mx - mn) - (omx - omn))
                    gap = omn - mn
                    t = mn + z if z < gap else omx + (z - gap)
            elif not (mn <= t < mx):
                draw += 1
                t = mn + _unit(seed, f, draw) * (mx - mn)
        else:
            t = mn + _unit(seed, f, draw) * (mx - mn)
        nL = _count_le(Xt, f, rows, t)
        hf[j] = t
        hi[j, HDRAW] = draw
        hi[j, HNVMAX] = nL
        hi[j, HNR] = n - nL
        if nL >= msl and n - nL >= msl:
            hi[j, HSTATUS] = VALID
            chosen = j
            break
        hi[j, HSTATUS] = INVALID
    cs, cfs = _write_headers(IB, FB, lens, hi, hf, nt)
    return cs, cfs, nt, chosen


# -- building ---------------------------------------------------------------------------------
@_flat
def _new_node(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, P: np.ndarray, kind: int, depth: int,
    seed: np.uint64, n: int, TI: np.ndarray, TF: np.ndarray,
) -> int:  # fmt: skip
    nd = _grab(lens, L_I, P[P_NIW], IB.shape[0])
    fo = _grab(lens, L_F, P[P_NFW], FB.shape[0])
    _init_node(IB, FB, P, nd, fo, kind, depth, seed, n, TI, TF)
    return nd


@_flat
def _init_node(
    IB: np.ndarray, FB: np.ndarray, P: np.ndarray, nd: int, fo: int, kind: int, depth: int,
    seed: np.uint64, n: int, TI: np.ndarray, TF: np.ndarray,
) -> None:  # fmt: skip
    """Write a node without split, rows or headers (and its statistics) at ``nd`` / ``fo``."""
    WI, WF = P[P_WI], P[P_WF]
    for c in range(NI_HEAD):
        IB[nd + c] = -1
    IB[nd + KIND] = kind
    IB[nd + SPLIT] = 0
    IB[nd + DEPTH] = depth
    IB[nd + SEED] = np.int64(seed)
    IB[nd + NN] = n
    IB[nd + CLEN] = 0
    IB[nd + FOFF] = fo
    FB[fo + THR] = 0.0
    FB[fo + V1] = 0.0
    for c in range(WI):
        IB[nd + NI_HEAD + c] = TI[c]
    for c in range(WF):
        FB[fo + NF_HEAD + c] = TF[c]


@_flat
def _set_leaf(IB: np.ndarray, lens: np.ndarray, nd: int, rows: np.ndarray) -> None:
    s0 = _grab(lens, L_I, rows.shape[0], IB.shape[0])
    for i in range(rows.shape[0]):
        IB[s0 + i] = rows[i]
    IB[nd + SPLIT] = 0
    IB[nd + SSTART] = s0
    IB[nd + SLEN] = rows.shape[0]


@_flat
def _set_split(
    IB: np.ndarray, FB: np.ndarray, nd: int, f: int, t: float, v1: float, chosen: int,
    left: int, right: int,
) -> None:  # fmt: skip
    IB[nd + SPLIT] = 1
    IB[nd + FEAT] = f
    IB[nd + CHOSEN] = chosen
    IB[nd + LEFT] = left
    IB[nd + RIGHT] = right
    fo = IB[nd + FOFF]
    FB[fo + THR] = t
    FB[fo + V1] = v1


@_flat
def _hash_node(IB: np.ndarray, FB: np.ndarray, P: np.ndarray, nd: int) -> None:
    """Structural digest of a node: its split, counts / sums and its children's digests."""
    bits = FB.view(np.uint64)
    split = IB[nd + SPLIT]
    fo = IB[nd + FOFF]
    h1 = mix64(_LANE1 ^ np.uint64(split))
    h2 = mix64(_LANE2 + np.uint64(IB[nd + NN]) * _ODD)
    for c in range(P[P_WI]):
        w = np.uint64(IB[nd + NI_HEAD + c])
        h1 = mix64(h1 ^ w)
        h2 = mix64(h2 + w * _ODD)
    if P[P_WF] > 0:
        w = bits[fo + NF_HEAD]
        h1 = mix64(h1 ^ w)
        h2 = mix64(h2 + w * _ODD)
    if split == 1:
        left = IB[nd + LEFT]
        right = IB[nd + RIGHT]
        for w in (
            np.uint64(IB[nd + FEAT]),
            bits[fo + THR],
            np.uint64(IB[left + HASH1]),
            np.uint64(IB[left + HASH2]),
            np.uint64(IB[right + HASH1]),
            np.uint64(IB[right + HASH2]),
        ):
            h1 = mix64(h1 ^ w)
            h2 = mix64(h2 + w * _ODD)
    IB[nd + HASH1] = np.int64(h1)
    IB[nd + HASH2] = np.int64(h2)


@_flat
def _split_rows(rows: np.ndarray, Xt: np.ndarray, f: int, t: float, scratch: np.ndarray) -> int:
    """Reorder ``rows`` in place, rows with ``x[f] <= t`` first, each side in its order;
    returns their number. ``scratch`` holds at least ``len(rows)`` integers."""
    nl = 0
    nr = 0
    for i in range(rows.shape[0]):
        r = rows[i]
        if Xt[f, r] <= t:
            rows[nl] = r
            nl += 1
        else:
            scratch[nr] = r
            nr += 1
    for i in range(nr):
        rows[nl + i] = scratch[i]
    return nl


@_jit
def _ascending(rows: np.ndarray) -> None:
    """Sort ``rows`` unless they already ascend: training then reads every attribute in the
    order it is stored, each node's rows being split in order (much faster than scattered
    reads once the attributes outgrow the caches)."""
    for i in range(1, rows.shape[0]):
        if rows[i] < rows[i - 1]:
            rows.sort()
            return


@_jit
def _make_node(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, Xt: np.ndarray, Y: np.ndarray,
    R: np.ndarray, P: np.ndarray, rows: np.ndarray, depth: int, seed: np.uint64,
    work: np.ndarray, const: np.ndarray, WSI: np.ndarray, WSF: np.ndarray,
) -> tuple[int, int, float]:  # fmt: skip
    """Create the node trained on ``rows`` (``const``: attributes known constant on them).

    Returns it, the attribute it splits on (-1: leaf) and the threshold; children are linked
    by the caller.
    """
    WI, WF, reg = P[P_WI], P[P_WF], P[P_REG] == 1
    n = rows.shape[0]
    TI, TF = _sum_rows(rows, Y, R, reg, WI, WF)
    work[W_WORK] += n
    work[W_NODES] += 1
    if _is_static(P, n, TI, depth):
        nd = _new_node(IB, FB, lens, P, STATIC, depth, seed, n, TI, TF)
        _set_leaf(IB, lens, nd, rows)
        return nd, -1, 0.0
    if depth < P[P_TOPD]:
        nd = _new_node(IB, FB, lens, P, RANDOM, depth, seed, n, TI, TF)
        cs, cfs, nc, ch = _random_trials(
            IB, FB, lens, Xt, P, rows, seed, _0, _0, _0, rows[:0], DELETE
        )
        f = -1
        t = 0.0
        v1 = 0.0
        if ch >= 0:
            f = IB[cs + ch * HIW + HFEAT]
            t = FB[cfs + ch]
            v1 = t
    else:
        nd = _new_node(IB, FB, lens, P, GREEDY, depth, seed, n, TI, TF)
        cs, cfs, nc, scanned = _scan_greedy(IB, FB, lens, Xt, Y, R, P, rows, seed, const, WSI, WSF)
        IB[nd + SCANNED] = scanned
        ch, v1, v2 = _best_greedy(IB, FB, P, cs, nc, TI, TF, n)
        f = -1
        t = 0.0
        if ch >= 0:
            f = IB[cs + ch * HIW + HFEAT]
            t = _threshold(v1, v2)
    IB[nd + CSTART] = cs
    IB[nd + CFSTART] = cfs
    IB[nd + CLEN] = nc
    if f < 0:
        _set_leaf(IB, lens, nd, rows)
        return nd, -1, 0.0
    _set_split(IB, FB, nd, f, t, v1, ch, _NEG1, _NEG1)
    return nd, f, t


@_jit
def _build(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, Xt: np.ndarray, Y: np.ndarray,
    R: np.ndarray, P: np.ndarray, rows: np.ndarray, depth: int, seed: np.uint64,
    work: np.ndarray, const0: np.ndarray,
) -> int:  # fmt: skip
    """Train the subtree of the node at ``depth`` with ``seed`` on ``rows`` (reordered);
    ``const0`` flags attributes known to be constant on ``rows``."""
    work[W_SUBTREES] += 1
    _ascending(rows)
    p = P[P_P]
    maxd = P[P_MAXD]
    size = 2 * rows.shape[0] + 2
    depth_room = size if maxd < 0 else 2 * (maxd - depth) + 4
    room = min(size, depth_room)
    st = np.empty((room, 5), np.int64)
    sseed = np.empty(room, np.uint64)
    cst = np.zeros((room, p), np.bool_)
    made = np.empty(size, np.int64)
    nmade = 0
    st[0, 0] = 0
    st[0, 1] = rows.shape[0]
    st[0, 2] = depth
    st[0, 3] = -1
    st[0, 4] = 0
    sseed[0] = seed
    cst[0] = const0
    WSI, WSF = _workspace(rows.shape[0], P)
    scratch = np.empty(rows.shape[0], np.int64)
    top = 1
    root = -1
    const = np.zeros(p, np.bool_)
    while top > 0:
        top -= 1
        s0, ln, dp, parent, side = st[top, 0], st[top, 1], st[top, 2], st[top, 3], st[top, 4]
        sd = sseed[top]
        const[:] = cst[top]
        sub = rows[s0 : s0 + ln]
        nd, f, t = _make_node(IB, FB, lens, Xt, Y, R, P, sub, dp, sd, work, const, WSI, WSF)
        made[nmade] = nd
        nmade += 1
        if parent < 0:
            root = nd
        else:
            IB[parent + LEFT + side] = nd
        if f >= 0:
            nleft = _split_rows(sub, Xt, f, t, scratch)
            st[top, 0] = s0 + nleft
            st[top, 1] = ln - nleft
            st[top, 2] = dp + 1
            st[top, 3] = nd
            st[top, 4] = 1
            sseed[top] = _child_seed(sd, _1)
            cst[top] = const
            st[top + 1, 0] = s0
            st[top + 1, 1] = nleft
            st[top + 1, 2] = dp + 1
            st[top + 1, 3] = nd
            st[top + 1, 4] = 0
            sseed[top + 1] = _child_seed(sd, _0)
            cst[top + 1] = const
            top += 2
    for i in range(nmade - 1, -1, -1):
        _hash_node(IB, FB, P, made[i])
    return root


# -- updating ---------------------------------------------------------------------------------
@_jit
def _collect(IB: np.ndarray, nd: int, batch: np.ndarray, mode: int) -> np.ndarray:
    """Rows of the subtree at ``nd`` after the update (removed rows out, added rows in)."""
    extra = batch.shape[0] if mode == ADD else 0
    out = np.empty(IB[nd + NN] + extra, np.int64)
    w = 0
    stack = np.empty(2 * IB[nd + NN] + 2, np.int64)
    stack[0] = nd
    top = 1
    while top > 0:
        top -= 1
        x = stack[top]
        if IB[x + SPLIT] == 1:
            stack[top] = IB[x + RIGHT]
            stack[top + 1] = IB[x + LEFT]
            top += 2
        else:
            s0 = IB[x + SSTART]
            for i in range(IB[x + SLEN]):
                out[w] = IB[s0 + i]
                w += 1
    if mode == DELETE:
        keep = 0
        for i in range(w):
            if not _contains(batch, out[i]):
                out[keep] = out[i]
                keep += 1
        return out[:keep]
    if mode == ADD:
        for i in range(batch.shape[0]):
            out[w + i] = batch[i]
        return out[: w + batch.shape[0]]
    return out[:w]


@_inline
def _route(batch: np.ndarray, Xt: np.ndarray, f: int, t: float) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``batch`` with ``x[f] <= t`` and the others, each in batch order."""
    if batch.shape[0] == 1:
        if Xt[f, batch[0]] <= t:
            return batch, batch[:0]
        return batch[:0], batch
    rows = batch.copy()
    nl = _split_rows(rows, Xt, f, t, np.empty(rows.shape[0], np.int64))
    return rows[:nl], rows[nl:]


@_flat
def _copy_words(A: np.ndarray, src: int, dst: int, count: int) -> None:
    for c in range(count):
        A[dst + c] = A[src + c]


@_jit
def _update_hist(
    IB: np.ndarray, FB: np.ndarray, J: np.ndarray, lens: np.ndarray, Xt: np.ndarray,
    Y: np.ndarray, R: np.ndarray, P: np.ndarray, h: int, hf: int, batch: np.ndarray, mode: int,
) -> bool:  # fmt: skip
    """Apply the update to the value histogram (``k`` None) of header ``h`` (journaled).

    Removals and relabels update the entries in place; additions that bring new values write
    a larger copy. Returns False when fewer than two distinct values remain (the attribute
    became constant).
    """
    reg, WI, WF, EIW, EFW = P[P_REG] == 1, P[P_WI], P[P_WF], P[P_EIW], P[P_EFW]
    f = IB[h + HFEAT]
    oei = IB[h + HESTART]
    oef = IB[h + HEFSTART]
    d = IB[h + HELEN]
    b = batch.shape[0]
    if mode == ADD:
        xs = np.empty(b)
        xr = np.empty(b, np.int64)
        for i in range(b):
            xs[i] = Xt[f, batch[i]]
            xr[i] = batch[i]
        _sort_pairs(xs, xr, b, np.empty(b), np.empty(b, np.int64), np.empty(256, np.int64))
        ei = _grab(lens, L_I, (d + b) * EIW, IB.shape[0])
        ef = _grab(lens, L_F, (d + b) * EFW, FB.shape[0])
        w = 0
        i = 0
        j = 0
        while i < d or j < b:
            if j == b or (i < d and FB[oef + i * EFW] < xs[j]):
                _copy_words(IB, oei + i * EIW, ei + w * EIW, EIW)
                _copy_words(FB, oef + i * EFW, ef + w * EFW, EFW)
                i += 1
                w += 1
                continue
            if i < d and FB[oef + i * EFW] == xs[j]:
                _copy_words(IB, oei + i * EIW, ei + w * EIW, EIW)
                _copy_words(FB, oef + i * EFW, ef + w * EFW, EFW)
                i += 1
            else:
                FB[ef + w * EFW] = xs[j]
                for c in range(WI):
                    IB[ei + w * EIW + c] = 0
                for c in range(WF):
                    FB[ef + w * EFW + 1 + c] = 0.0
            v = FB[ef + w * EFW]
            while j < b and xs[j] == v:
                _acc_mode(IB, ei + w * EIW, FB, ef + w * EFW + 1, reg, Y, R, xr[j], mode)
                j += 1
            w += 1
        # the copies were the last allocations: give back what the update did not use
        lens[L_I] = ei + w * EIW
        lens[L_F] = ef + w * EFW
    else:
        ei = oei
        ef = oef
        for i in range(b):
            r = batch[i]
            x = Xt[f, r]
            lo = 0
            hi = d
            while lo < hi:
                mid = (lo + hi) >> 1
                if FB[ef + mid * EFW] < x:
                    lo = mid + 1
                else:
                    hi = mid
            _save_i(J, lens, IB, ei + lo * EIW, EIW)
            _save_f(J, lens, FB, ef + lo * EFW, EFW)
            _acc_mode(IB, ei + lo * EIW, FB, ef + lo * EFW + 1, reg, Y, R, r, mode)
        w = d
        if mode == DELETE:
            w = 0
            while w < d and _cnt(IB, ei + w * EIW, reg, WI) > 0:
                w += 1
            if w < d:  # emptied value groups: the entries from the first one on move down
                _save_i(J, lens, IB, ei + w * EIW, (d - w) * EIW)
                _save_f(J, lens, FB, ef + w * EFW, (d - w) * EFW)
            for i in range(w, d):
                if _cnt(IB, ei + i * EIW, reg, WI) > 0:
                    if w != i:
                        _copy_words(IB, ei + i * EIW, ei + w * EIW, EIW)
                        _copy_words(FB, ef + i * EFW, ef + w * EFW, EFW)
                    w += 1
    IB[h + HESTART] = ei
    IB[h + HEFSTART] = ef
    IB[h + HELEN] = w
    if w > 0:
        IB[h + HNVMAX] = _cnt(IB, ei + (w - 1) * EIW, reg, WI)
        FB[hf] = FB[ef + (w - 1) * EFW]
    return w >= 2


@_jit
def _update_sampled(
    IB: np.ndarray, FB: np.ndarray, J: np.ndarray, lens: np.ndarray, Xt: np.ndarray,
    Y: np.ndarray, R: np.ndarray, P: np.ndarray, h: int, hf: int, batch: np.ndarray, mode: int,
    seed: np.uint64,
) -> bool:  # fmt: skip
    """Apply the update, in place (journaled), to the ``k`` sampled candidates of header ``h``.

    Returns False when the sampled set, or a candidate's neighbouring value, may have changed
    (a cached value group emptied, a value appeared between a candidate and its neighbour or
    among the smallest keys, the largest value changed): the node must then be rescanned.
    """
    reg, WI, WF, EIW, EFW = P[P_REG] == 1, P[P_WI], P[P_WF], P[P_EIW], P[P_EFW]
    f = IB[h + HFEAT]
    ei = IB[h + HESTART]
    ef = IB[h + HEFSTART]
    m = IB[h + HELEN]
    _save_i(J, lens, IB, ei, m * EIW)
    _save_f(J, lens, FB, ef, m * EFW)
    vmax = FB[hf]
    nvmax = IB[h + HNVMAX]
    kappa = np.uint64(IB[h + HKAPPA])
    for i in range(batch.shape[0]):
        r = batch[i]
        x = Xt[f, r]
        is_v1 = False
        for j in range(m):
            e = ei + j * EIW
            fe = ef + j * EFW
            v1 = FB[fe]
            v2 = FB[fe + 1]
            if x <= v1:
                _acc_mode(IB, e, FB, fe + 2, reg, Y, R, r, mode)
            if x == v1:
                _acc_mode(IB, e + WI, FB, fe + 2 + WF, reg, Y, R, r, mode)
                is_v1 = True
            elif x == v2:
                _acc_mode(IB, e + 2 * WI, FB, fe + 2 + 2 * WF, reg, Y, R, r, mode)
            elif mode == ADD and v1 < x < v2:
                return False
        if mode == DELETE:
            if x == vmax:
                nvmax -= 1
                if nvmax == 0:
                    return False
        elif mode == ADD:
            if x > vmax:
                return False
            if x == vmax:
                nvmax += 1
            elif not is_v1:
                one = np.empty(1)
                one[0] = x
                if _value_keys(seed, f, one, _1)[0] < kappa:
                    return False
    if mode == DELETE:
        for j in range(m):
            e = ei + j * EIW
            if _cnt(IB, e + WI, reg, WI) == 0 or _cnt(IB, e + 2 * WI, reg, WI) == 0:
                return False
    IB[h + HNVMAX] = nvmax
    return True


_FAST_DONE, _FAST_RESCAN, _FAST_STATUS = _i64(0), _i64(1), _i64(2)
#: The best candidate is yet to be found (:func:`_greedy_headers` did not score the headers).
_UNSCORED = _i64(-2)


@_flat
def _delete_sampled(
    IB: np.ndarray, FB: np.ndarray, J: np.ndarray, lens: np.ndarray, Xt: np.ndarray,
    Y: np.ndarray, P: np.ndarray, cs: int, cfs: int, j0: int, nh: int, batch: np.ndarray,
    n: int, TI: np.ndarray, score: bool,
) -> tuple[int, int, int, float, float]:  # fmt: skip
    """:func:`_update_sampled`, the validity check and (when ``score``) :func:`_best_greedy`
    for a classifier's removals, on headers ``j0..`` in one loop (the most common update,
    without a call per header or entry); ``TI`` holds the node's statistics after the update.

    Returns ``(nh, _FAST_DONE, ...)`` when every header is updated, ``(j, _FAST_RESCAN, ...)``
    when header ``j``'s candidates may have changed (re-examine it, then go on from ``j + 1``)
    and ``(j, _FAST_STATUS, ...)`` when whether header ``j`` has a valid threshold changed;
    then the best candidate of headers ``j0..`` as :func:`_best_greedy` returns it (none when
    not ``score``).
    """
    WI, EIW, EFW, msl = P[P_WI], P[P_EIW], P[P_EFW], P[P_MSL]
    gini = P[P_CRIT] == GINI
    best = np.inf
    bf = -1
    bj = -1
    bv1 = 0.0
    bv2 = 0.0
    for j in range(j0, nh):
        h = cs + j * HIW
        f = IB[h + HFEAT]
        ei = IB[h + HESTART]
        ef = IB[h + HEFSTART]
        m = IB[h + HELEN]
        vmax = FB[cfs + j]
        nvmax = IB[h + HNVMAX]
        if batch.shape[0] == 1:
            # one row: only the counts of its class change, left of the candidates from the
            # first one with ``v1 >= x`` on (they ascend), and in the value groups equal to
            # ``x`` (that candidate's first, the one before's second); only those are
            # journaled (a classifier's entry floats are its two values and stay)
            r = batch[0]
            x = Xt[f, r]
            cl = Y[0, r]
            g0 = 0
            while g0 < m and FB[ef + g0 * EFW] < x:
                g0 += 1
            if g0 > 0 and FB[ef + (g0 - 1) * EFW + 1] == x:
                _save(J, lens, IB, _0, ei + (g0 - 1) * EIW + 2 * WI + cl, _1)
                IB[ei + (g0 - 1) * EIW + 2 * WI + cl] -= 1
            if g0 < m and FB[ef + g0 * EFW] == x:
                _save(J, lens, IB, _0, ei + g0 * EIW + WI + cl, _1)
                IB[ei + g0 * EIW + WI + cl] -= 1
            if g0 < m:
                _save_spaced(J, lens, IB, _0, ei + g0 * EIW + cl, m - g0, EIW)
            for g in range(g0, m):
                IB[ei + g * EIW + cl] -= 1
            if x == vmax:
                nvmax -= 1
                if nvmax == 0:
                    return j, _FAST_RESCAN, bj, bv1, bv2
        else:
            # journal the entries' counts (a classifier's entry floats are its two values)
            _save(J, lens, IB, _0, ei, m * EIW)
            for i in range(batch.shape[0]):
                r = batch[i]
                x = Xt[f, r]
                cl = Y[0, r]
                for g in range(m):
                    # without branches: which of the counts a row is in depends on the data
                    e = ei + g * EIW
                    v1 = FB[ef + g * EFW]
                    IB[e + cl] -= x <= v1
                    IB[e + WI + cl] -= x == v1
                    IB[e + 2 * WI + cl] -= x == FB[ef + g * EFW + 1]
                if x == vmax:
                    nvmax -= 1
                    if nvmax == 0:
                        return j, _FAST_RESCAN, bj, bv1, bv2
        valid = False
        scored = IB[h + HSTATUS] == VALID
        for g in range(m):
            e = ei + g * EIW
            nl, n1, n2, p1, p2 = _entry_groups(IB, e, WI)
            if n1 == 0 or n2 == 0:
                return j, _FAST_RESCAN, bj, bv1, bv2
            if _class_valid(nl, n, msl, p1, p2):
                valid = True
                if score and scored:
                    sc = _class_score(IB, e, TI, WI, nl, n - nl, gini)
                    v1 = FB[ef + g * EFW]
                    if _beats(sc, f, v1, best, bf, bv1):
                        best, bf, bj, bv1, bv2 = sc, f, j, v1, FB[ef + g * EFW + 1]
        if nvmax != IB[h + HNVMAX]:
            _save(J, lens, IB, _0, h + HNVMAX, _1)
            IB[h + HNVMAX] = nvmax
        if valid != scored:
            return j, _FAST_STATUS, bj, bv1, bv2
    return nh, _FAST_DONE, bj, bv1, bv2


@_flat
def _leftmost_row(IB: np.ndarray, nd: int) -> int:
    while IB[nd + SPLIT] == 1:
        nd = IB[nd + LEFT]
    return IB[IB[nd + SSTART]]


@_jit
def _greedy_headers(
    IB: np.ndarray, FB: np.ndarray, J: np.ndarray, lens: np.ndarray, Xt: np.ndarray,
    Y: np.ndarray, R: np.ndarray, P: np.ndarray, nd: int, batch: np.ndarray, mode: int, n: int,
    rows: np.ndarray, work: np.ndarray, start: int,
) -> tuple[int, int, int, bool, np.ndarray]:  # fmt: skip
    """Apply the update to a greedy node's headers, in place (journaled); from header
    ``start`` on, which needs re-examining, when :func:`_delete_sampled` already updated the
    ones before it (else ``start`` is -1).

    An attribute whose cached candidates may have changed set is re-examined on the node's
    rows (collected once, returned; ``rows`` is empty until then). Returns the headers, their
    number, ``ok`` and the rows: ``ok`` is False when the update may change which attributes
    the node examines (one became constant, or gained or lost its last valid threshold), so
    that the whole node must be rescanned.
    """
    k = P[P_K]
    ocs = IB[nd + CSTART]
    ocfs = IB[nd + CFSTART]
    nh = IB[nd + CLEN]
    seed = np.uint64(IB[nd + SEED])
    if mode == ADD:
        # attributes examined without a header were constant: do the new rows change that?
        perm = _perm(P[P_P], seed)
        known = np.zeros(P[P_P], np.bool_)
        for j in range(nh):
            known[IB[ocs + j * HIW + HFEAT]] = True
        anchor = _leftmost_row(IB, nd)
        for pi in range(IB[nd + SCANNED]):
            f = perm[pi]
            if known[f]:
                continue
            for i in range(batch.shape[0]):
                if Xt[f, batch[i]] != Xt[f, anchor]:
                    return 0, 0, 0, False, rows
    cs = ocs
    cfs = ocfs
    # a classifier's removals from sampled candidates take the written-out path, which
    # journals the one header word it changes; the other paths journal the headers here
    fast = k >= 0 and P[P_REG] == 0 and mode == DELETE
    if not fast:
        _save_i(J, lens, IB, cs, nh * HIW)
    if k < 0:
        _save_f(J, lens, FB, cfs, nh)
    TI = IB[nd + NI_HEAD : nd + NI_HEAD + P[P_WI]]
    j = max(start, 0)
    while j < nh:
        if fast and j != start:
            # the node is scored once all headers are updated (:func:`_best_greedy`)
            j, code, _ch, _v1, _v2 = _delete_sampled(
                IB, FB, J, lens, Xt, Y, P, cs, cfs, j, nh, batch, n, TI, False
            )
            if code == _FAST_DONE:
                break
            if code == _FAST_STATUS:
                return cs, cfs, nh, False, rows
        h = cs + j * HIW
        status = IB[h + HSTATUS]
        if k < 0:
            if not _update_hist(IB, FB, J, lens, Xt, Y, R, P, h, cfs + j, batch, mode):
                return cs, cfs, nh, False, rows
            ok = _hist_any_valid(IB, P, IB[h + HESTART], IB[h + HELEN], n)
        else:
            if fast or not _update_sampled(
                IB, FB, J, lens, Xt, Y, R, P, h, cfs + j, batch, mode, seed
            ):
                if rows.shape[0] == 0:
                    rows = _collect(IB, nd, batch, mode)
                work[W_WORK] += rows.shape[0]
                work[W_RESCAN_WORK] += rows.shape[0]
                WSI, WSF = _workspace(rows.shape[0], P)
                hrow = np.empty(HIW, np.int64)
                varies, vmax = _scan_attribute(
                    IB, FB, lens, Xt, Y, R, P, rows, seed, IB[h + HFEAT], WSI, WSF, hrow
                )
                if not varies:
                    return cs, cfs, nh, False, rows
                if fast:
                    _save_i(J, lens, IB, h, HIW)
                for c in range(HIW):
                    IB[h + c] = hrow[c]
                _save_f(J, lens, FB, cfs + j, _1)
                FB[cfs + j] = vmax
            ok = _k_any_valid(IB, P, IB[h + HESTART], IB[h + HELEN], n)
        if ok != (status == VALID):
            return cs, cfs, nh, False, rows
        j += 1
    return cs, cfs, nh, True, rows


@_flat
def _random_counts(
    IB: np.ndarray, FB: np.ndarray, J: np.ndarray, lens: np.ndarray, Xt: np.ndarray,
    P: np.ndarray, nd: int, batch: np.ndarray, mode: int,
) -> tuple[int, int, int, int, bool]:  # fmt: skip
    """Apply removals to a random node's trials, in place (journaled).

    ``ok`` is False when a draw left its attribute's range or the accepted trial became
    invalid: the node then needs redraws (which read only the trials' attributes, draws,
    thresholds and constant flags, none of which this changes).
    """
    msl = P[P_MSL]
    cs = IB[nd + CSTART]
    cfs = IB[nd + CFSTART]
    nt = IB[nd + CLEN]
    _save_i(J, lens, IB, cs, nt * HIW)
    chosen = -1
    for j in range(nt):
        h = cs + j * HIW
        if IB[h + HSTATUS] == CONST:
            continue
        if mode == DELETE:
            f = IB[h + HFEAT]
            t = FB[cfs + j]
            for i in range(batch.shape[0]):
                if Xt[f, batch[i]] <= t:
                    IB[h + HNVMAX] -= 1
                else:
                    IB[h + HNR] -= 1
        nl = IB[h + HNVMAX]
        nr = IB[h + HNR]
        if nl == 0 or nr == 0:
            return cs, cfs, nt, -1, False
        if nl >= msl and nr >= msl:
            IB[h + HSTATUS] = VALID
            if chosen < 0:
                chosen = j
        else:
            IB[h + HSTATUS] = INVALID
    if IB[nd + SPLIT] == 1 and chosen != IB[nd + CHOSEN]:
        return cs, cfs, nt, -1, False
    return cs, cfs, nt, chosen, True


@_jit
def _child_const(
    IB: np.ndarray, P: np.ndarray, kind: int, cs: int, nc: int, scanned: int, seed: np.uint64,
    const: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """``const`` plus the attributes this node found constant (they are constant below)."""
    cc = const.copy()
    if kind == GREEDY:
        perm = _perm(P[P_P], seed)
        has = np.zeros(P[P_P], np.bool_)
        for j in range(nc):
            has[IB[cs + j * HIW + HFEAT]] = True
        for pi in range(scanned):
            if not has[perm[pi]]:
                cc[perm[pi]] = True
    else:
        for j in range(nc):
            if IB[cs + j * HIW + HSTATUS] == CONST:
                cc[IB[cs + j * HIW + HFEAT]] = True
    return cc


@_flat
def _rewrite(
    IB: np.ndarray, FB: np.ndarray, P: np.ndarray, nd: int, fo: int, kind: int, depth: int,
    seed: np.uint64, n: int, TI: np.ndarray, TF: np.ndarray, cs: int, cfs: int, nc: int,
    scanned: int,
) -> None:  # fmt: skip
    """:func:`_init_node` for an updated greedy or random node, with its headers (or trials)."""
    _init_node(IB, FB, P, nd, fo, kind, depth, seed, n, TI, TF)
    IB[nd + CSTART] = cs
    IB[nd + CFSTART] = cfs
    IB[nd + CLEN] = nc
    IB[nd + SCANNED] = scanned


@_flat
def _park(
    IB: np.ndarray, FB: np.ndarray, nd: int, fo: int, left: int, right: int, f: int, v1: float
) -> None:
    """Keep the children ``left`` / ``right`` of the split on ``f`` at ``v1`` at node ``nd``
    (``left`` -1: none)."""
    IB[nd + PARK_LEFT] = left
    IB[nd + PARK_RIGHT] = right
    IB[nd + PARK_FEAT] = f
    FB[fo + PARK_V1] = v1


@_flat
def _kept(
    IB: np.ndarray, FB: np.ndarray, nd: int, fo: int, cs: int, cfs: int, nc: int, scanned: int,
    pl: int, pr: int, pf: int, pv: float,
) -> bool:  # fmt: skip
    """Whether node ``nd`` already records these headers (or trials) and parked children."""
    same_blocks = (
        IB[nd + CSTART] == cs
        and IB[nd + CFSTART] == cfs
        and IB[nd + CLEN] == nc
        and IB[nd + SCANNED] == scanned
    )
    if not same_blocks or IB[nd + PARK_LEFT] != pl:
        return False
    return pl < 0 or (
        IB[nd + PARK_RIGHT] == pr and IB[nd + PARK_FEAT] == pf and FB[fo + PARK_V1] == pv
    )


@_jit
def _row_changes(
    IB: np.ndarray, Xt: np.ndarray, left: int, right: int, rows: np.ndarray, nleft: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """How the rows of parked children ``left`` / ``right`` differ from ``rows[:nleft]`` /
    ``rows[nleft:]``: the sorted rows each lost and gained, and whether there are few of
    them (at most one in ``REVIVE_RATIO`` of ``rows``)."""
    none = np.empty(0, np.int64)
    limit = rows.shape[0] // REVIVE_RATIO
    # 1 / 2: in the left / right child now; 3: there before too
    mark = np.zeros(Xt.shape[1], np.uint8)
    for i in range(rows.shape[0]):
        mark[rows[i]] = 1 if i < nleft else 2
    lost = np.empty(limit + 1, np.int64)
    gained = np.empty(limit + 1, np.int64)
    count = 0
    ends = np.zeros(2, np.int64)
    for side in range(2):
        old = _collect(IB, left if side == 0 else right, none, ADD)
        for i in range(old.shape[0]):
            r = old[i]
            if mark[r] == side + 1:
                mark[r] = 3
            else:
                lost[count] = r
                count += 1
                if count > limit:
                    return none, none, none, none, False
        ends[side] = count
    gone = count
    split = 0  # gained rows of the left child (they come first)
    for i in range(rows.shape[0]):
        if mark[rows[i]] != 3:
            gained[count - gone] = rows[i]
            count += 1
            if count > limit:
                return none, none, none, none, False
            if i < nleft:
                split += 1
    return (
        np.sort(lost[: ends[0]]),
        np.sort(gained[:split]),
        np.sort(lost[ends[0] : ends[1]]),
        np.sort(gained[split : count - gone]),
        True,
    )


_FIND_BLOCK = _i64(32)


@_flat
def _find_row(IB: np.ndarray, s0: int, m: int, r: int) -> int:
    """Position of row ``r`` among the ``m`` rows at ``IB[s0:]`` (-1: absent); blocks of rows
    are tested for it without branches first, which compiles to vector compares."""
    i = 0
    while i < m:
        end = min(i + _FIND_BLOCK, m)
        hit = 0
        for c in range(i, end):
            hit |= IB[s0 + c] == r
        if hit:
            for c in range(i, end):
                if IB[s0 + c] == r:
                    return c
        i = end
    return -1


@_jit
def _keep_leaf_rows(
    IB: np.ndarray, J: np.ndarray, lens: np.ndarray, nd: int, s0: int, slen: int,
    batch: np.ndarray, mode: int,
) -> None:  # fmt: skip
    """Update, in place, the rows of ``nd``, a leaf before the update and after it: removed
    rows are replaced by the last ones (the order of a leaf's rows carries no meaning)."""
    m = slen
    b = batch.shape[0]
    if mode == DELETE and b <= 16:
        # few rows: find each one (they all sit in this leaf)
        for j in range(b):
            i = _find_row(IB, s0, m, batch[j])
            if i < 0:
                raise ValueError("a removed row is not in the leaf it was routed to")
            m -= 1
            _save_i(J, lens, IB, s0 + i, _1)
            IB[s0 + i] = IB[s0 + m]
    elif mode == DELETE:
        for i in range(slen - 1, -1, -1):
            if _contains(batch, IB[s0 + i]):
                m -= 1
                _save_i(J, lens, IB, s0 + i, _1)
                IB[s0 + i] = IB[s0 + m]
    IB[nd + SPLIT] = 0
    IB[nd + SSTART] = s0
    IB[nd + SLEN] = m


@_flat
def _leaf_rows(
    IB: np.ndarray, J: np.ndarray, lens: np.ndarray, nd: int, stays_leaf: bool, s0: int,
    slen: int, batch: np.ndarray, mode: int, rows: np.ndarray,
) -> None:  # fmt: skip
    """Give ``nd``, a leaf after the update, its rows: its own block updated in place when it
    was a leaf before (``stays_leaf``), else a new block holding ``rows``."""
    if stays_leaf:
        _keep_leaf_rows(IB, J, lens, nd, s0, slen, batch, mode)
    else:
        _set_leaf(IB, lens, nd, rows)


@_jit
def _update(
    IB: np.ndarray, FB: np.ndarray, J: np.ndarray, lens: np.ndarray, Xt: np.ndarray,
    Y: np.ndarray, R: np.ndarray, P: np.ndarray, nd: int, batch: np.ndarray, mode: int,
    work: np.ndarray, const: np.ndarray, newidx: np.ndarray,
) -> int:  # fmt: skip
    """Apply an update to the subtree at ``nd``; returns its root (``nd`` unless retrained).

    Nodes, headers, candidate entries and leaf rows are updated in place, each block recorded
    in the journal ``J`` before it is first written; retrained subtrees, rescanned attributes,
    grown histograms and grown leaves are appended to the heaps.

    ``const`` flags attributes known to be constant on the node's rows after the update. In
    ``DROP`` mode (a subtree whose greedy nodes examined every attribute), ``newidx`` maps old
    attribute numbers to new ones (-1: removed); a node that split on a removed attribute
    takes its best remaining cached candidate and retrains below.
    """
    if mode == DROP and IB[nd + KIND] == STATIC:
        return nd
    WI, WF, reg = P[P_WI], P[P_WF], P[P_REG] == 1
    kind = IB[nd + KIND]
    depth = IB[nd + DEPTH]
    seed = np.uint64(IB[nd + SEED])
    fo = IB[nd + FOFF]
    b = batch.shape[0]
    # the node's blocks are journaled first: its statistics are then updated where they are
    _save_i(J, lens, IB, nd, P[P_NIW])
    _save_f(J, lens, FB, fo, P[P_NFW])
    TI = IB[nd + NI_HEAD : nd + NI_HEAD + WI]
    TF = FB[fo + NF_HEAD : fo + NF_HEAD + WF]
    for i in range(b):
        _acc_mode(TI, _0, TF, _0, reg, Y, R, batch[i], mode)
    n = IB[nd + NN]
    if mode == DELETE:
        n -= b
    elif mode == ADD:
        n += b
    s0 = IB[nd + SSTART]
    slen = IB[nd + SLEN]
    # a leaf that stays one keeps its block of rows (-1 for split nodes)
    stays_leaf = slen >= 0 and mode != ADD
    if _is_static(P, n, TI, depth):
        rows = batch[:0] if stays_leaf else _collect(IB, nd, batch, mode)
        _init_node(IB, FB, P, nd, fo, STATIC, depth, seed, n, TI, TF)
        _leaf_rows(IB, J, lens, nd, stays_leaf, s0, slen, batch, mode, rows)
        _hash_node(IB, FB, P, nd)
        return nd
    if kind == STATIC:
        rows = _collect(IB, nd, batch, mode)
        return _build(IB, FB, lens, Xt, Y, R, P, rows, depth, seed, work, const)
    collected = False
    rows = batch[:0]
    scanned = 0
    f = -1
    t = 0.0
    v1 = 0.0
    ch = -1
    same = False
    # parked children stay valid while rows are only removed and added
    parks = kind == GREEDY and mode in (DELETE, ADD)
    pl, pr, pf, pv = IB[nd + PARK_LEFT], IB[nd + PARK_RIGHT], IB[nd + PARK_FEAT], FB[fo + PARK_V1]
    if not parks:
        pl = -1
    if mode == DROP:
        scanned = P[P_P]
        cs, cfs, nc, ch = _drop_headers(IB, FB, lens, nd, newidx)
        if IB[nd + SPLIT] == 1 and ch >= 0:
            same = True
            f = newidx[IB[nd + FEAT]]
            t = FB[fo + THR]
            v1 = FB[fo + V1]
        else:
            ch, v1, v2 = _best_greedy(IB, FB, P, cs, nc, TI, TF, n)
            if ch >= 0:
                f = IB[cs + ch * HIW + HFEAT]
                t = _threshold(v1, v2)
    elif kind == GREEDY:
        scanned = IB[nd + SCANNED]
        start = _NEG1
        code = _FAST_RESCAN
        if P[P_K] >= 0 and P[P_REG] == 0 and mode == DELETE:
            # a classifier's removals from sampled candidates: the written-out path, which
            # most nodes need nothing beyond
            cs, cfs, nc = IB[nd + CSTART], IB[nd + CFSTART], IB[nd + CLEN]
            start, code, ch, v1, v2 = _delete_sampled(
                IB, FB, J, lens, Xt, Y, P, cs, cfs, _0, nc, batch, n, TI, True
            )
            ok = code == _FAST_DONE
        if code == _FAST_RESCAN:
            cs, cfs, nc, ok, rows = _greedy_headers(
                IB, FB, J, lens, Xt, Y, R, P, nd, batch, mode, n, rows, work, start
            )
            ch = _UNSCORED
        collected = rows.shape[0] > 0
        if not ok:
            if not collected:
                rows = _collect(IB, nd, batch, mode)
            collected = True
            work[W_WORK] += n
            work[W_RESCANS] += 1
            work[W_RESCAN_WORK] += n
            known = const.copy()
            WSI, WSF = _workspace(n, P)
            cs, cfs, nc, scanned = _scan_greedy(
                IB, FB, lens, Xt, Y, R, P, rows, seed, known, WSI, WSF
            )
            ch = _UNSCORED
        if ch == _UNSCORED:
            ch, v1, v2 = _best_greedy(IB, FB, P, cs, nc, TI, TF, n)
        if ch >= 0:
            f = IB[cs + ch * HIW + HFEAT]
            t = _threshold(v1, v2)
            same = IB[nd + SPLIT] == 1 and f == IB[nd + FEAT] and v1 == FB[fo + V1]
    else:
        cs = 0
        cfs = 0
        nc = 0
        ok = mode != ADD
        if ok:
            cs, cfs, nc, ch, ok = _random_counts(IB, FB, J, lens, Xt, P, nd, batch, mode)
        if not ok:
            rows = _collect(IB, nd, batch, mode)
            collected = True
            work[W_WORK] += n
            work[W_RESCANS] += 1
            ocs, ocfs, ont = IB[nd + CSTART], IB[nd + CFSTART], IB[nd + CLEN]
            cs, cfs, nc, ch = _random_trials(
                IB, FB, lens, Xt, P, rows, seed, ocs, ocfs, ont, batch, mode
            )
        if ch >= 0:
            f = IB[cs + ch * HIW + HFEAT]
            t = FB[cfs + ch]
            v1 = t
            same = IB[nd + SPLIT] == 1 and f == IB[nd + FEAT] and v1 == FB[fo + V1]
    if f < 0:
        if not collected and not stays_leaf:
            rows = _collect(IB, nd, batch, mode)
        if parks and IB[nd + SPLIT] == 1:
            pl, pr, pf, pv = IB[nd + LEFT], IB[nd + RIGHT], IB[nd + FEAT], FB[fo + V1]
        _rewrite(IB, FB, P, nd, fo, kind, depth, seed, n, TI, TF, cs, cfs, nc, scanned)
        _park(IB, FB, nd, fo, pl, pr, pf, pv)
        _leaf_rows(IB, J, lens, nd, stays_leaf, s0, slen, batch, mode, rows)
        _hash_node(IB, FB, P, nd)
        return nd
    if same:
        left = IB[nd + LEFT]
        right = IB[nd + RIGHT]
        # removed rows sit where the old threshold sent them; added rows go by the new one
        lb, rb = _route(batch, Xt, f, t if mode == ADD else FB[fo + THR])
        if lb.shape[0] > 0 or mode == DROP:
            left = _update(IB, FB, J, lens, Xt, Y, R, P, left, lb, mode, work, const, newidx)
        if rb.shape[0] > 0 or mode == DROP:
            right = _update(IB, FB, J, lens, Xt, Y, R, P, right, rb, mode, work, const, newidx)
    else:
        if not collected:
            rows = _collect(IB, nd, batch, mode)
        cc = _child_const(IB, P, kind, cs, nc, scanned, seed, const)
        nleft = _split_rows(rows, Xt, f, t, np.empty(rows.shape[0], np.int64))
        left = -1
        right = -1
        if pl >= 0 and pf == f and pv == v1:
            # the split returns to the parked one: take its children back and update them,
            # unless too many of their rows changed since
            lout, lin, rout, rin, few = _row_changes(IB, Xt, pl, pr, rows, nleft)
            if few:
                work[W_REUSED] += 1
                left = pl
                right = pr
                for part, child_mode in ((lout, DELETE), (lin, ADD)):
                    if part.shape[0] > 0:
                        left = _update(
                            IB, FB, J, lens, Xt, Y, R, P, left, part, child_mode, work, cc, newidx
                        )
                for part, child_mode in ((rout, DELETE), (rin, ADD)):
                    if part.shape[0] > 0:
                        right = _update(
                            IB, FB, J, lens, Xt, Y, R, P, right, part, child_mode, work, cc, newidx
                        )
                pl = -1
        if left < 0:
            lseed = _child_seed(seed, _0)
            rseed = _child_seed(seed, _1)
            left = _build(IB, FB, lens, Xt, Y, R, P, rows[:nleft], depth + 1, lseed, work, cc)
            right = _build(IB, FB, lens, Xt, Y, R, P, rows[nleft:], depth + 1, rseed, work, cc)
        if parks and IB[nd + SPLIT] == 1:
            pl, pr, pf, pv = IB[nd + LEFT], IB[nd + RIGHT], IB[nd + FEAT], FB[fo + V1]
    if same and _kept(IB, FB, nd, fo, cs, cfs, nc, scanned, pl, pr, pf, pv):
        # the split, its blocks and what the node parked stay: the statistics were updated
        # in place; the count, the children and the threshold (the chosen pair's upper value
        # may have changed) are written here
        IB[nd + NN] = n
        IB[nd + CHOSEN] = ch
        IB[nd + LEFT] = left
        IB[nd + RIGHT] = right
        FB[fo + THR] = t
    else:
        _rewrite(IB, FB, P, nd, fo, kind, depth, seed, n, TI, TF, cs, cfs, nc, scanned)
        _park(IB, FB, nd, fo, pl, pr, pf, pv)
        _set_split(IB, FB, nd, f, t, v1, ch, left, right)
    _hash_node(IB, FB, P, nd)
    return nd


# -- removing attributes ----------------------------------------------------------------------
@_flat
def _drop_headers(
    IB: np.ndarray, FB: np.ndarray, lens: np.ndarray, nd: int, newidx: np.ndarray
) -> tuple[int, int, int, int]:
    """A greedy node's headers without the removed attributes, renumbered.

    Returns the headers, their number and the new position of the chosen one (-1: removed).
    """
    ocs = IB[nd + CSTART]
    ocfs = IB[nd + CFSTART]
    onh = IB[nd + CLEN]
    kept = 0
    for j in range(onh):
        if newidx[IB[ocs + j * HIW + HFEAT]] >= 0:
            kept += 1
    cs = _grab(lens, L_I, kept * HIW, IB.shape[0])
    cfs = _grab(lens, L_F, kept, FB.shape[0])
    nh = 0
    chosen = -1
    for j in range(onh):
        oh = ocs + j * HIW
        nf = newidx[IB[oh + HFEAT]]
        if nf < 0:
            continue
        _copy_words(IB, oh, cs + nh * HIW, HIW)
        IB[cs + nh * HIW + HFEAT] = nf
        FB[cfs + nh] = FB[ocfs + j]
        if IB[nd + SPLIT] == 1 and j == IB[nd + CHOSEN]:
            chosen = nh
        nh += 1
    return cs, cfs, nh, chosen


# -- the one entry point that changes trees ---------------------------------------------------
OP_BUILD, OP_UPDATE, OP_DROP = _i64(0), _i64(1), _i64(2)


@_jit
def forest_op(
    IB: np.ndarray, FB: np.ndarray, J: np.ndarray, lens: np.ndarray, Xt: np.ndarray,
    Y: np.ndarray, R: np.ndarray, P: np.ndarray, op: int, trees: np.ndarray, rows: np.ndarray,
    mode: int, out_roots: np.ndarray, work: np.ndarray,
) -> None:  # fmt: skip
    """Apply ``op`` to trees ``lens[L_PROG]..`` and write their new roots to ``out_roots``.

    ``OP_BUILD``: train tree ``t`` on ``rows`` with root seed ``trees[t]``. ``OP_UPDATE``:
    remove, add or relabel (``mode``) the sorted ``rows`` in the tree rooted at ``trees[t]``.
    ``OP_DROP``: remove the attributes that ``rows`` (old number -> new number, -1) drops.
    """
    for t in range(lens[L_PROG], trees.shape[0]):
        lens[L_PROG] = t
        lens[L_JMARK] = lens[L_J]
        none = np.zeros(P[P_P], np.bool_)
        if op == OP_BUILD:
            seed = np.uint64(trees[t])
            out_roots[t] = _build(IB, FB, lens, Xt, Y, R, P, rows.copy(), _0, seed, work, none)
        elif op == OP_UPDATE:
            root = trees[t]
            out_roots[t] = _update(IB, FB, J, lens, Xt, Y, R, P, root, rows, mode, work, none, rows)
        else:
            root = trees[t]
            empty = rows[:0]
            out_roots[t] = _update(
                IB, FB, J, lens, Xt, Y, R, P, root, empty, DROP, work, none, rows
            )
    lens[L_PROG] = trees.shape[0]


# -- reading the forest -----------------------------------------------------------------------
@_jit
def predict_trees(
    IB: np.ndarray, FB: np.ndarray, P: np.ndarray, roots: np.ndarray, X: np.ndarray
) -> np.ndarray:
    """Sum over trees of the leaf class frequencies (classifier) or leaf means (regressor)."""
    reg = P[P_REG] == 1
    width = 1 if reg else P[P_WI]
    m = X.shape[0]
    out = np.zeros((m, width))
    for t in range(roots.shape[0]):
        root = roots[t]
        for i in range(m):
            nd = root
            while IB[nd + SPLIT] == 1:
                if X[i, IB[nd + FEAT]] <= FB[IB[nd + FOFF] + THR]:
                    nd = IB[nd + LEFT]
                else:
                    nd = IB[nd + RIGHT]
            n = IB[nd + NN]
            if reg:
                out[i, 0] += FB[IB[nd + FOFF] + NF_HEAD] / n
            else:
                for c in range(width):
                    out[i, c] += IB[nd + NI_HEAD + c] / n
    return out


@_jit
def _preorder(IB: np.ndarray, root: int) -> tuple[np.ndarray, np.ndarray]:
    """Node ids of a subtree in preorder, and each one's parent position (-1) and side."""
    cap = 2 * IB[root + NN] + 2
    ids = np.empty(cap, np.int64)
    link = np.empty((cap, 2), np.int64)
    stack = np.empty((cap, 3), np.int64)
    stack[0, 0] = root
    stack[0, 1] = -1
    stack[0, 2] = 0
    top = 1
    i = 0
    while top > 0:
        top -= 1
        x = stack[top, 0]
        ids[i] = x
        link[i, 0] = stack[top, 1]
        link[i, 1] = stack[top, 2]
        if IB[x + SPLIT] == 1:
            stack[top, 0] = IB[x + RIGHT]
            stack[top, 1] = i
            stack[top, 2] = 1
            stack[top + 1, 0] = IB[x + LEFT]
            stack[top + 1, 1] = i
            stack[top + 1, 2] = 0
            top += 2
        i += 1
    return ids[:i], link[:i]


@_jit
def export_tree(IB: np.ndarray, FB: np.ndarray, P: np.ndarray, root: int) -> tuple:
    """A tree in preorder: attribute, threshold, children, sample counts, values, depth, kind."""
    reg = P[P_REG] == 1
    ids, link = _preorder(IB, root)
    m = ids.shape[0]
    feature = np.full(m, -2, np.int64)
    threshold = np.full(m, -2.0)
    left = np.full(m, -1, np.int64)
    right = np.full(m, -1, np.int64)
    count = np.empty(m, np.int64)
    depth = np.empty(m, np.int64)
    kind = np.empty(m, np.int64)
    width = 1 if reg else P[P_WI]
    value = np.empty((m, width))
    for i in range(m):
        x = ids[i]
        n = IB[x + NN]
        fo = IB[x + FOFF]
        count[i] = n
        depth[i] = IB[x + DEPTH]
        kind[i] = IB[x + KIND]
        if reg:
            value[i, 0] = FB[fo + NF_HEAD] / n
        else:
            for c in range(width):
                value[i, c] = IB[x + NI_HEAD + c] / n
        if IB[x + SPLIT] == 1:
            feature[i] = IB[x + FEAT]
            threshold[i] = FB[fo + THR]
        if link[i, 0] >= 0:
            if link[i, 1] == 0:
                left[link[i, 0]] = i
            else:
                right[link[i, 0]] = i
    return feature, threshold, left, right, count, value, depth, kind


@_flat
def _impurity(IB: np.ndarray, x: int, WI: int, crit: int) -> float:
    """Sample count times the Gini or entropy impurity of node ``x``."""
    n = IB[x + NN]
    imp = 1.0 if crit == GINI else 0.0
    for c in range(WI):
        q = IB[x + NI_HEAD + c] / n
        if crit == GINI:
            imp -= q * q
        elif q > 0:
            imp -= q * np.log2(q)
    return n * imp


@_jit
def importances(IB: np.ndarray, FB: np.ndarray, P: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Impurity decrease per attribute and tree (unnormalised)."""
    WI, crit = P[P_WI], P[P_CRIT]
    out = np.zeros((roots.shape[0], P[P_P]))
    for t in range(roots.shape[0]):
        ids, _ = _preorder(IB, roots[t])
        for i in range(ids.shape[0]):
            x = ids[i]
            if IB[x + SPLIT] == 0:
                continue
            a = IB[x + LEFT]
            b = IB[x + RIGHT]
            if crit == SQUARED:
                na = IB[a + NN]
                nb = IB[b + NN]
                diff = FB[IB[a + FOFF] + NF_HEAD] / na - FB[IB[b + FOFF] + NF_HEAD] / nb
                dec = na * (nb / (na + nb)) * diff * diff
            else:
                dec = _impurity(IB, x, WI, crit)
                dec -= _impurity(IB, a, WI, crit) + _impurity(IB, b, WI, crit)
            out[t, IB[x + FEAT]] += dec
    return out


@_jit
def live_sizes(IB: np.ndarray, P: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Words the trees use: node, header, entry and leaf-row integers; node, header, entry
    floats."""
    NIW, NFW, EIW, EFW = P[P_NIW], P[P_NFW], P[P_EIW], P[P_EFW]
    out = np.zeros(7, np.int64)
    for t in range(roots.shape[0]):
        ids, _ = _preorder(IB, roots[t])
        for i in range(ids.shape[0]):
            x = ids[i]
            out[0] += NIW
            out[4] += NFW
            if IB[x + SPLIT] == 0:
                out[3] += IB[x + SLEN]
            nh = IB[x + CLEN]
            if IB[x + KIND] != STATIC and nh > 0:
                out[1] += nh * HIW
                out[5] += nh
                for j in range(nh):
                    ne = IB[IB[x + CSTART] + j * HIW + HELEN]
                    out[2] += ne * EIW
                    out[6] += ne * EFW
    return out


@_jit
def compact(
    IB: np.ndarray, FB: np.ndarray, P: np.ndarray, roots: np.ndarray, keep: np.ndarray,
    IB2: np.ndarray, FB2: np.ndarray, lens: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """Copy the live part of every tree, in preorder, into the heaps ``IB2``/``FB2``.

    ``keep`` lists the statistics columns to keep (all of them, or the classes that remain
    after a class was removed); ``P`` describes the source layout.
    """
    WI, EIW, EFW, NFW = P[P_WI], P[P_EIW], P[P_EFW], P[P_NFW]
    wk = keep.shape[0]
    blocks = EIW // WI
    EIW2 = blocks * wk
    NIW2 = NI_HEAD + wk
    out_roots = np.empty(roots.shape[0], np.int64)
    for t in range(roots.shape[0]):
        ids, link = _preorder(IB, roots[t])
        pos = np.empty(ids.shape[0], np.int64)
        for i in range(ids.shape[0]):
            x = ids[i]
            y = _grab(lens, L_I, NIW2, IB2.shape[0])
            fo = _grab(lens, L_F, NFW, FB2.shape[0])
            pos[i] = y
            for c in range(NI_HEAD):
                IB2[y + c] = IB[x + c]
            IB2[y + PARK_LEFT] = -1  # parked subtrees are not copied
            for c in range(wk):
                IB2[y + NI_HEAD + c] = IB[x + NI_HEAD + keep[c]]
            for c in range(NFW):
                FB2[fo + c] = FB[IB[x + FOFF] + c]
            IB2[y + FOFF] = fo
            if link[i, 0] >= 0:
                IB2[pos[link[i, 0]] + LEFT + link[i, 1]] = y
            if IB[x + SPLIT] == 0:
                ln = IB[x + SLEN]
                s0 = _grab(lens, L_I, ln, IB2.shape[0])
                for c in range(ln):
                    IB2[s0 + c] = IB[IB[x + SSTART] + c]
                IB2[y + SSTART] = s0
            nh = IB[x + CLEN]
            if IB[x + KIND] == STATIC or nh == 0:
                continue
            ocs = IB[x + CSTART]
            ocfs = IB[x + CFSTART]
            cs = _grab(lens, L_I, nh * HIW, IB2.shape[0])
            cfs = _grab(lens, L_F, nh, FB2.shape[0])
            IB2[y + CSTART] = cs
            IB2[y + CFSTART] = cfs
            for j in range(nh):
                oh = ocs + j * HIW
                h = cs + j * HIW
                for c in range(HIW):
                    IB2[h + c] = IB[oh + c]
                FB2[cfs + j] = FB[ocfs + j]
                ne = IB[oh + HELEN]
                if ne == 0:
                    continue
                ei = _grab(lens, L_I, ne * EIW2, IB2.shape[0])
                ef = _grab(lens, L_F, ne * EFW, FB2.shape[0])
                oei = IB[oh + HESTART]
                oef = IB[oh + HEFSTART]
                for g in range(ne):
                    for bl in range(blocks):
                        for c in range(wk):
                            IB2[ei + g * EIW2 + bl * wk + c] = IB[oei + g * EIW + bl * WI + keep[c]]
                    for c in range(EFW):
                        FB2[ef + g * EFW + c] = FB[oef + g * EFW + c]
                IB2[h + HESTART] = ei
                IB2[h + HEFSTART] = ef
        out_roots[t] = pos[0]
    return out_roots


@_jit
def rehash(IB: np.ndarray, FB: np.ndarray, P: np.ndarray, roots: np.ndarray) -> None:
    """Recompute every node digest bottom-up (after statistics columns changed)."""
    for t in range(roots.shape[0]):
        ids, _ = _preorder(IB, roots[t])
        for i in range(ids.shape[0] - 1, -1, -1):
            _hash_node(IB, FB, P, ids[i])
