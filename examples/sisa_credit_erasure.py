"""SISA on the Taiwan credit-default data: erase clients' records by retraining one shard.

Twenty logistic-regression models are trained on disjoint shards of the 30,000 clients (a
client's shard is a hash of the client id). An erasure request retrains only the shards that
held the client's row; the ensemble is then the very model that training without those
clients gives, which the script checks. A second ensemble trains a PyTorch MLP slice by slice
with checkpoints on disk, so an erasure resumes from the checkpoint before the client's slice;
it is saved, loaded and unlearned again.

Run: ``python examples/sisa_credit_erasure.py``
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler

from unlearnkit import ForgetRequest
from unlearnkit.checks import assert_same_model
from unlearnkit.datasets import load_taiwan_credit
from unlearnkit.exact import SISAClassifier
from unlearnkit.exact.sisa import MLP, TorchClassifier, TorchTraining


def main() -> None:
    data = load_taiwan_credit()
    test = data.ids % 5 == 0  # a fixed 20 % of the clients are held out
    # Scaling statistics come from the held-out clients, so no training row shapes them.
    scaler = StandardScaler().fit(np.asarray(data.X)[test])
    X, y, ids = scaler.transform(np.asarray(data.X)[~test]), data.y[~test], data.ids[~test]
    X_test, y_test = scaler.transform(np.asarray(data.X)[test]), data.y[test]

    model = SISAClassifier(n_shards=20, random_state=0).fit(X, y, sample_ids=ids)
    print(f"20 shards on {len(y):,} clients: test accuracy {model.score(X_test, y_test):.4f}")

    clients = [int(i) for i in ids[[10, 2000, 15000]]]
    result = model.unlearn(ForgetRequest.items(clients, reason="privacy", subject="erasure-17"))
    print(
        f"forgot clients {clients}: retrained shards {result.evidence['shards_retrained']} "
        f"({result.retrained_fraction:.1%} of the training work) in {result.seconds:.3f} s"
    )
    keep = ~np.isin(ids, clients)
    retrained = SISAClassifier(n_shards=20, random_state=0).fit(
        X[keep], y[keep], sample_ids=ids[keep]
    )
    assert_same_model(model, retrained, X_test)
    print("the unlearned ensemble equals a retrain without those clients")

    subset = np.flatnonzero(~test)[:4000]
    sliced = SISAClassifier(
        TorchClassifier(MLP((32,)), training=TorchTraining(epochs=4, lr=3e-3)),
        n_shards=4,
        n_slices=4,
        random_state=0,
        checkpoint_dir=None,
    )
    with tempfile.TemporaryDirectory() as tmp:
        sliced.set_params(checkpoint_dir=Path(tmp) / "checkpoints")
        sliced.fit(scaler.transform(np.asarray(data.X)[subset]), data.y[subset],
                   sample_ids=data.ids[subset])  # fmt: skip
        saved = sliced.save(Path(tmp) / "sisa-mlp.ukit")
        loaded = SISAClassifier.load(saved)
        first = int(data.ids[subset][0])
        result = loaded.unlearn([first])
        print(
            f"MLP ensemble (4 shards x 4 slices, checkpoints on disk): forgetting client "
            f"{first} resumed shard {result.evidence['shards_retrained'][0]} at slice "
            f"{next(iter(result.evidence['first_slice'].values()))} "
            f"({result.retrained_fraction:.1%} of the training work); test accuracy "
            f"{loaded.score(X_test, y_test):.4f}"
        )


if __name__ == "__main__":
    main()
