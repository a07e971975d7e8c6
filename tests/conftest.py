import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real corpora: $PROBE_DATA_DIR, else ../shared/data beside the checkout."""
    path = Path(os.environ.get("PROBE_DATA_DIR", REPO.parent / "shared" / "data"))
    if not (path / "yelp").is_dir():
        pytest.skip(f"real corpora not found at {path} (set PROBE_DATA_DIR)")
    return path
