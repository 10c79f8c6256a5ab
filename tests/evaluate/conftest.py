"""Evaluation tests run PyTorch on one thread, like the rest of the suite runs BLAS."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch
except ImportError:  # the 'deep' extra is optional
    torch = None
else:
    torch.set_num_threads(1)
