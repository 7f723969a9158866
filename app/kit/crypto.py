"""Connection secrets at rest: AES-256-GCM (authenticated), one random nonce per value, and the
connection's identity as associated data so a ciphertext cannot be moved to another row."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.kit.serialization import json_bytes

log = logging.getLogger("openpieces.crypto")

KEY_FILE_NAME = "encryption.key"
_VERSION = "v1"


class InvalidEncryptionKey(ValueError):
    pass


def _decode_key(encoded: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(encoded.strip() + "=" * (-len(encoded.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidEncryptionKey("AP_ENCRYPTION_KEY must be urlsafe base64 of 32 bytes") from exc
    if len(key) != 32:
        raise InvalidEncryptionKey("AP_ENCRYPTION_KEY must be urlsafe base64 of 32 bytes")
    return key


def new_encoded_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


KEY_REQUIRED = (
    "AP_ENCRYPTION_KEY is required (AP_ENCRYPTION_KEY_REQUIRED=true): pass the key in from where your "
    "secrets live, not beside the data; `openpieces new-encryption-key` makes one"
)


def load_or_create_key(configured: str | None, data_dir: Path, *, required: bool = False) -> bytes:
    """The configured key, else the one kept in `data_dir`, else a new one written there (0600).
    Creation is exclusive, so workers starting together agree on one key. `required` (production,
    the image): only the configured key, never one kept beside the data it protects."""
    if configured:
        return _decode_key(configured)
    if required:
        raise InvalidEncryptionKey(KEY_REQUIRED)
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return _decode_key(path.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    encoded = new_encoded_key()
    # Written whole to a private temp file, then hard-linked into place: link() refuses to replace
    # an existing file, so of several workers starting at once exactly one key wins and nobody
    # ever reads a half-written file.
    fd, temp_name = tempfile.mkstemp(dir=data_dir, prefix=".key-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(encoded)
        os.chmod(temp_name, 0o600)
        try:
            os.link(temp_name, path)
        except FileExistsError:
            return _decode_key(path.read_text())
    finally:
        os.unlink(temp_name)
    log.warning(
        f"no AP_ENCRYPTION_KEY set: generated one for connection secrets in {path.resolve()}; "
        "back it up with the database (without it the stored secrets cannot be read)",
        extra={"path": str(path.resolve())},
    )
    return _decode_key(encoded)


def key_fingerprint(key: bytes) -> str:
    """Names a key without revealing it (a hash of 32 random bytes cannot be reversed): two
    fingerprints differ exactly when the keys do."""
    return "sha256:" + hashlib.sha256(b"openpieces encryption key\0" + key).hexdigest()[:32]


def decode_key(encoded: str) -> bytes:
    """A key as AP_ENCRYPTION_KEY spells it (urlsafe base64 of 32 bytes)."""
    return _decode_key(encoded)


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.fingerprint = key_fingerprint(key)

    def seal(self, value: Any, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json_bytes(value), context.encode())
        return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str, context: str) -> Any:
        version, _, payload = token.partition(":")
        if version != _VERSION:
            raise ValueError(f"unknown secret format {version!r}")
        raw = base64.b64decode(payload)
        return orjson.loads(self._aead.decrypt(raw[:12], raw[12:], context.encode()))
