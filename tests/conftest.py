import os

# Torch's OpenMP threads busy-wait by default; on a shared 2-core machine that makes small models ~100x slower.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real corpora: $PROBE_DATA_DIR, else ../shared/data beside the checkout."""
    path = Path(os.environ.get("PROBE_DATA_DIR", REPO.parent / "shared" / "data"))
    if not (path / "yelp").is_dir():
        pytest.skip(f"real corpora not found at {path} (set PROBE_DATA_DIR)")
    return path
