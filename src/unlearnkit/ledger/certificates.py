"""Ed25519-signed certificates of finished requests.

A certificate document is JSON::

    {"certificate": {...what was done...},
     "signature": {"algorithm": "Ed25519", "key_id": "<sha256 of the public key>",
                   "value": "<base64 signature of the canonical JSON of 'certificate'>"}}

The private key lives in a file (mode 0600) beside the books; its public half is recorded in
the books, so anyone holding the books or the public key file can check a certificate.

Examples
--------
>>> import tempfile
>>> signer = Signer.load_or_create(tempfile.mkdtemp() + "/signing-key.pem")
>>> doc = signer.sign({"subject": "customer-42", "guarantee": {"kind": "exact"}})
>>> verify_document(doc, signer.public_key_pem)["subject"]
'customer-42'
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from unlearnkit.errors import UnlearnError
from unlearnkit.ledger.audit import canonical_json

__all__ = ["CertificateError", "Signer", "key_id", "verify_document"]

ALGORITHM = "Ed25519"


class CertificateError(UnlearnError, ValueError):
    """A certificate is malformed, signed by an unknown key, or its signature does not match."""


def key_id(public_key_pem: str) -> str:
    """SHA-256 of the public key's PEM text: how certificates name their key."""
    return hashlib.sha256(public_key_pem.strip().encode()).hexdigest()


class Signer:
    """Signs certificate bodies with an Ed25519 private key kept in a file.

    Parameters
    ----------
    private_key : Ed25519PrivateKey
        The key; build it with :meth:`load_or_create`.
    """

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key_pem = (
            private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        self.key_id = key_id(self.public_key_pem)

    @classmethod
    def load_or_create(cls, path: str | Path) -> Signer:
        """Read the PEM private key at ``path``, creating it (mode 0600) when missing."""
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it first; read theirs below
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CertificateError(
                f"{path} holds a {type(key).__name__}, not an Ed25519 private key; "
                "move it away and a new key will be created."
            )
        return cls(key)

    def sign(self, body: dict[str, Any]) -> dict[str, Any]:
        """The signed certificate document of ``body``."""
        signature = self._key.sign(canonical_json(body).encode())
        return {
            "certificate": body,
            "signature": {
                "algorithm": ALGORITHM,
                "key_id": self.key_id,
                "value": base64.b64encode(signature).decode(),
            },
        }


def verify_document(document: dict[str, Any] | str | bytes, public_key_pem: str) -> dict[str, Any]:
    """Check a certificate document's signature; return its body or raise CertificateError."""
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise CertificateError(f"The certificate is not valid JSON: {exc}.") from None
    if not isinstance(document, dict):
        raise CertificateError("A certificate document must be a JSON object.")
    try:
        body = document["certificate"]
        sig = document["signature"]
        algorithm, kid, value = sig["algorithm"], sig["key_id"], sig["value"]
    except (KeyError, TypeError):
        raise CertificateError(
            "A certificate document needs 'certificate' and 'signature' "
            "{'algorithm', 'key_id', 'value'}; this file is not one."
        ) from None
    if algorithm != ALGORITHM:
        raise CertificateError(f"Unsupported signature algorithm {algorithm!r}; expected Ed25519.")
    if kid != key_id(public_key_pem):
        raise CertificateError(
            f"The certificate was signed by key {kid[:16]}..., not by the key given "
            f"({key_id(public_key_pem)[:16]}...). Check it against the service that issued it."
        )
    public = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(public, Ed25519PublicKey):
        raise CertificateError("The public key given is not an Ed25519 key.")
    try:
        public.verify(base64.b64decode(value), canonical_json(body).encode())
    except (InvalidSignature, ValueError):
        raise CertificateError(
            "The signature does not match the certificate: it was altered after signing."
        ) from None
    return dict(body)
