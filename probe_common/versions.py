"""The installed version of a package, as results and saved training stages record it."""

from __future__ import annotations

from importlib import metadata


def installed_version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # e.g. probe run from a source tree: recorded as such
        return "not installed"
