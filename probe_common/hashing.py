"""sha256 digests the project records: of files, of bytes, of ordered example lists, of JSON recipes.

Every digest is 64 lowercase hex digits, the form the leaderboard stores and checks.
"""

from __future__ import annotations

import hashlib
import json
import os

_BLOCK = 1 << 20  # files are hashed in 1 MiB blocks, so a large weight file is never read whole


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lines_sha256(lines: list[str]) -> str:
    """sha256 of the lines joined by newlines: equal digests mean the same texts in the same order."""
    return bytes_sha256("\n".join(lines).encode("utf-8"))


def json_sha256(value) -> str:
    """sha256 of ``value`` as canonical JSON (sorted keys), e.g. of a recipe that defines a built-in encoder."""
    return bytes_sha256(json.dumps(value, sort_keys=True).encode())
