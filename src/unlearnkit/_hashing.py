"""Stable 64-bit hashes of sample ids: the same in every process and on every platform.

Models that place a sample by its id (k-means leaves, shards) use these, so that where a sample
goes never depends on which other samples are present or on row positions.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

__all__ = ["mix64", "stable_id_hash"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def mix64(h: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, element-wise on a ``uint64`` array (wrapping arithmetic)."""
    h = h + _GOLDEN
    h = (h ^ (h >> np.uint64(30))) * _MIX1
    h = (h ^ (h >> np.uint64(27))) * _MIX2
    return h ^ (h >> np.uint64(31))


def stable_id_hash(ids: np.ndarray, seed: int = 0) -> np.ndarray:
    """A 64-bit hash of every sample id, the same in every process and on every platform.

    Integer ids are mixed arithmetically; string and bytes ids are hashed with BLAKE2b. The
    result depends only on the id and ``seed``, never on where the id sits in ``ids``.
    """
    ids = np.asarray(ids)
    if ids.dtype.kind in "iu":
        h = ids.astype(np.int64).view(np.uint64)
    else:
        h = np.fromiter((_hash_scalar(v) for v in ids.tolist()), dtype=np.uint64, count=len(ids))
    salt = mix64(np.asarray([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    return mix64(mix64(h) ^ salt)


def _hash_scalar(value: Any) -> int:
    if isinstance(value, bytes):
        data = b"b" + value
    elif isinstance(value, str):
        data = b"s" + value.encode("utf-8")
    else:
        data = b"r" + repr(value).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
