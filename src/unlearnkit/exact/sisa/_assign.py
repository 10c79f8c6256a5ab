"""Where each sample goes: its shard and its slice, from its id and the random state only."""

from __future__ import annotations

import numpy as np

from unlearnkit._hashing import stable_id_hash
from unlearnkit.errors import DataValidationError

__all__ = ["assign"]


def assign(
    ids: np.ndarray,
    *,
    n_shards: int,
    n_slices: int,
    seed: int,
    deletion_probability: np.ndarray | None = None,
    hot_shards: int = 1,
    hot_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Shard and slice of every sample, a function of ``(id, seed)`` (and its probability).

    Without probabilities a sample's shard is ``hash % n_shards``. With them, samples whose
    probability of a future deletion request is at least ``hot_threshold`` are spread over the
    first ``hot_shards`` shards and all others over the rest, so that likely deletions retrain
    only those shards. The slice uses other bits of the same hash. Nothing depends on the row
    position or on which other samples are present: a retrain without some samples places
    every remaining sample where it was.
    """
    h = stable_id_hash(ids, seed)
    if deletion_probability is None:
        shard = h % np.uint64(n_shards)
    else:
        p = np.asarray(deletion_probability, dtype=np.float64)
        if p.shape != (len(ids),) or not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
            raise DataValidationError(
                "deletion_probability must hold one probability in [0, 1] per row "
                f"({len(ids)} values); got shape {p.shape}."
            )
        cold = n_shards - hot_shards
        shard = np.where(
            p >= hot_threshold,
            h % np.uint64(hot_shards),
            np.uint64(hot_shards) + h % np.uint64(cold),
        )
    slice_ = (h >> np.uint64(32)) % np.uint64(n_slices)
    return shard.astype(np.intp), slice_.astype(np.intp)
