"""Entity ids: 21 characters of [0-9a-zA-Z], like Activepieces' `apId()`.

By default they are random (nanoid). In deterministic mode (`seed_ids(n)`) they, and the other random
choices a `/v1` answer shows (`choose`, `new_token`), come from one generator seeded with `n`: the same
requests in the same order get the same ids on every run. API keys stay random whatever the mode."""

import random
import re
import secrets
from collections.abc import Sequence
from typing import TypeVar

from nanoid import generate

ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
ID_LENGTH = 21
ID_PATTERN = r"^[0-9a-zA-Z]{21}$"
_ID_RE = re.compile(ID_PATTERN)
# The characters of `secrets.token_urlsafe`, for tokens made by the seeded generator.
_TOKEN_ALPHABET = ID_ALPHABET + "-_"

T = TypeVar("T")

# None: random ids. Module state: deterministic mode runs one server process.
_seeded: random.Random | None = None
_seed: int | None = None


def seed_ids(seed: int | None) -> None:
    """From now on ids come from a generator seeded with `seed` (again from its start when called
    again with the same seed); None: random ids again."""
    global _seeded, _seed
    _seed = seed
    _seeded = None if seed is None else random.Random(seed)


def id_seed() -> int | None:
    return _seed


def new_id() -> str:
    if _seeded is None:
        return generate(ID_ALPHABET, ID_LENGTH)
    return "".join(_seeded.choices(ID_ALPHABET, k=ID_LENGTH))


def choose(options: Sequence[T]) -> T:
    """One of `options` at random (from the seeded generator in deterministic mode)."""
    return (_seeded or random).choice(options)


def new_token() -> str:
    """A URL-safe secret of 43 characters (256 bits), e.g. an invitation link's token.
    Seeded in deterministic mode: such a token is in the answer that makes it, and using one needs
    the admin token anyway."""
    if _seeded is None:
        return secrets.token_urlsafe(32)
    return "".join(_seeded.choices(_TOKEN_ALPHABET, k=43))


def is_valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def new_api_key() -> str:
    # 64 alphanumeric characters (~380 bits) after the prefix, so a plain SHA-256 is a safe hash.
    return "sk-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(64))
