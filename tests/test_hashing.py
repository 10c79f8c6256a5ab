from __future__ import annotations

import numpy as np

from unlearnkit._hashing import stable_id_hash


def test_stable_id_hash_is_pinned():
    # A change here would move samples to other leaves when a saved model is refitted. Id 0
    # with seed 0 hashes to splitmix64's first output for state 0, 0xE220A8397B1DCDAF.
    ints = stable_id_hash(np.array([0, 1, 2**40], dtype=np.int64), 0)
    assert ints.tolist() == [0xE220A8397B1DCDAF, 15204172177749531820, 2103860320945771830]
    strs = stable_id_hash(np.array(["a", "b"], dtype=object), 5)
    assert strs.tolist() == [7573130040343499655, 17842189026975183378]
    # a hash depends on the id and the seed only
    assert stable_id_hash(np.array([7]), 3)[0] == stable_id_hash(np.array([9, 7]), 3)[1]
    assert stable_id_hash(np.array([7]), 3)[0] != stable_id_hash(np.array([7]), 4)[0]
