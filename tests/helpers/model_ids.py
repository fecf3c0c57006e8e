"""Model ids for tests that need only an id's shape (a registry checks the shape, never a store)."""

from __future__ import annotations

import base64
import hashlib


def model_id(seed: str) -> str:
    """``sha256.`` + base32 of the SHA-256 of ``seed``: the shape of a crossform id, for no real package."""
    return "sha256." + base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode().rstrip("=")
