"""API key format: ``ao_`` + 30 base62 random characters + a 6-character CRC32 checksum.

The checksum lets secret scanners and our own check tell a key from noise without a
database query (the token format GitHub uses). Only the SHA-256 of a key is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib

PREFIX = "ao_"
BODY_LENGTH = 30
CHECKSUM_LENGTH = 6
DISPLAY_PREFIX_LENGTH = 10
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_PATTERN = re.compile(
    rf"^{PREFIX}[0-9A-Za-z]{{{BODY_LENGTH}}}[0-9A-Za-z]{{{CHECKSUM_LENGTH}}}$"
)


def _base62(number: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits)) or "0"


def checksum(body: str) -> str:
    """The 6-character base62 CRC32 of a key's random part."""
    return _base62(zlib.crc32(body.encode("ascii"))).rjust(CHECKSUM_LENGTH, "0")


def generate_key() -> str:
    """A new random API key."""
    body = "".join(secrets.choice(BASE62) for _ in range(BODY_LENGTH))
    return f"{PREFIX}{body}{checksum(body)}"


def is_well_formed(key: str) -> bool:
    """True when `key` has our format and its checksum matches (no database needed)."""
    if not KEY_PATTERN.match(key):
        return False
    body = key[len(PREFIX) : len(PREFIX) + BODY_LENGTH]
    return hmac.compare_digest(checksum(body), key[-CHECKSUM_LENGTH:])


def hash_key(key: str) -> str:
    """The SHA-256 hex digest stored in place of the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    """The first characters of a key, safe to show so people can tell keys apart."""
    return key[:DISPLAY_PREFIX_LENGTH]
