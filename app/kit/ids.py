"""Entity ids: 21 characters of [0-9a-zA-Z], like Activepieces' `apId()`."""

import re
import secrets

from nanoid import generate

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
ID_LENGTH = 21
ID_PATTERN = r"^[0-9a-zA-Z]{21}$"
_ID_RE = re.compile(ID_PATTERN)


def new_id() -> str:
    return generate(ID_ALPHABET, ID_LENGTH)


def is_valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def new_api_key() -> str:
    # 64 alphanumeric characters (~380 bits) after the prefix, so a plain SHA-256 is a safe hash.
    return "sk-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(64))
