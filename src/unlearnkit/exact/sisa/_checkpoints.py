"""Slice checkpoints: pickled models with their SHA-256, kept in memory or in a directory.

Files are written under new names (the content hash is part of the name) and never
overwritten, so a model file saved earlier keeps pointing at intact checkpoints whatever
happens to a later unlearning.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from unlearnkit.errors import UnlearnError

__all__ = ["Checkpoint", "CheckpointCorruptedError", "CheckpointError", "CheckpointStore"]


class CheckpointError(UnlearnError, OSError):
    """The checkpoint directory cannot be created or written."""


class CheckpointCorruptedError(CheckpointError):
    """A checkpoint file is missing or its content does not match its recorded SHA-256."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """One slice checkpoint: its hash, and its bytes (in memory) or its file."""

    sha256: str
    data: bytes | None = None
    path: str | None = None

    def read(self) -> bytes:
        """The checkpoint's bytes, verified against the recorded hash."""
        if self.data is not None:
            data = self.data
            where = "an in-memory checkpoint"
        else:
            assert self.path is not None
            where = f"checkpoint {self.path!r}"
            try:
                data = Path(self.path).read_bytes()
            except OSError as exc:
                raise CheckpointCorruptedError(
                    f"Cannot read {where}: {exc.strerror or exc}. The checkpoint directory was "
                    "moved or altered; restore it or refit the model."
                ) from None
        if sha256(data) != self.sha256:
            raise CheckpointCorruptedError(
                f"{where[0].upper()}{where[1:]} is corrupted: its SHA-256 is not the recorded "
                f"{self.sha256[:16]}... Restore the file from a backup or refit the model."
            )
        return data

    def verify(self) -> None:
        """Raise :class:`CheckpointCorruptedError` unless the content matches its hash."""
        self.read()


class CheckpointStore:
    """Where new checkpoints go: memory (``directory=None``) or files under ``directory``."""

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self.directory = None if directory is None else Path(directory)
        self.run = uuid.uuid4().hex[:12]
        #: Files this store created (not those that already held the same content).
        self.created: list[Path] = []

    def check_writable(self) -> None:
        """Create the directory and write a probe file, or raise :class:`CheckpointError`."""
        if self.directory is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.directory, prefix=".probe-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise CheckpointError(
                f"checkpoint_dir={str(self.directory)!r} is not writable "
                f"({exc.strerror or exc}); pass a directory you can write to, or None to keep "
                "checkpoints in memory."
            ) from None

    def put(self, data: bytes, shard: int, slice_: int) -> Checkpoint:
        digest = sha256(data)
        if self.directory is None:
            return Checkpoint(digest, data=data)
        folder = self.directory / self.run / f"shard-{shard:04d}"
        path = folder / f"slice-{slice_:03d}-{digest[:16]}.ckpt"
        if path.is_file():  # the same content (its hash is in the name) is already there
            return Checkpoint(digest, path=str(path))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self.created.append(path)
        except OSError as exc:
            raise CheckpointError(
                f"Cannot write a checkpoint under {str(self.directory)!r} "
                f"({exc.strerror or exc}); free space or fix permissions and retry."
            ) from None
        return Checkpoint(digest, path=str(path))

    def discard_created(self) -> None:
        """Delete the files this store created (after a failed update)."""
        for path in self.created:
            path.unlink(missing_ok=True)
        self.created = []


def remove(checkpoints: list[Checkpoint]) -> None:
    """Delete the files of ``checkpoints`` (missing files are ignored)."""
    for ckpt in checkpoints:
        if ckpt.path is not None:
            Path(ckpt.path).unlink(missing_ok=True)
