"""probe_common: the errors, atomic writes and hashes that vae/, tasks/, probe/ and leaderboard/ share."""

import errno
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from probe_common import atomic
from probe_common.errors import DataError, ProbeError, WriteError
from probe_common.hashing import bytes_sha256, file_sha256, json_sha256, lines_sha256

REPO = Path(__file__).resolve().parents[1]


def test_one_error_hierarchy_for_every_part():
    import vae.atomic
    import vae.errors
    from leaderboard.errors import CorruptExamples, LeaderboardError, MissingExamples

    assert vae.errors.ProbeError is ProbeError and vae.errors.DataError is DataError  # older imports still work
    assert vae.atomic.write_text is atomic.write_text
    assert all(issubclass(error, ProbeError) for error in (LeaderboardError, MissingExamples, CorruptExamples))
    assert str(DataError("train.txt", "blank line", line=3)) == "train.txt:3: blank line"


def test_probe_common_imports_only_the_standard_library():
    code = ("import sys, probe_common.errors, probe_common.atomic, probe_common.hashing; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'numpy', 'vae', 'leaderboard', "
            "'pydantic'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_hashes_are_sha256_hex_of_the_bytes_they_name(tmp_path):
    abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 test vector
    assert bytes_sha256(b"abc") == abc
    big = tmp_path / "big.bin"
    big.write_bytes(b"abc" * 1_000_000)  # several read blocks
    assert file_sha256(big) == hashlib.sha256(b"abc" * 1_000_000).hexdigest()
    assert lines_sha256(["a", "b"]) == hashlib.sha256(b"a\nb").hexdigest()
    assert json_sha256({"b": 1, "a": [2]}) == json_sha256({"a": [2], "b": 1}) == hashlib.sha256(
        b'{"a": [2], "b": 1}').hexdigest()


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    path = tmp_path / "metrics.json"
    atomic.write_json(path, {"old": 1})

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(WriteError, match=f"{path}: cannot write: Read-only file system"):
        atomic.write_json(path, {"new": 2})
    assert path.read_text() == '{\n  "old": 1\n}\n'
    assert os.listdir(tmp_path) == ["metrics.json"]


# glibc marks a block it served with a fresh mmap by bit 1 of the size field just before the block.
MMAPPED_BLOCK_CHECK = """
import ctypes, ctypes.util, sys
from probe_common.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "kept" else False
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
block = libc.malloc(8 * 2**20)
print(applied, bool(ctypes.c_size_t.from_address(block - ctypes.sizeof(ctypes.c_size_t)).value & 2))
"""


@pytest.mark.skipif(sys.platform != "linux" or os.confstr("CS_GNU_LIBC_VERSION") is None, reason="glibc only")
def test_with_freed_memory_kept_an_8_mib_block_comes_from_the_heap_not_a_fresh_mmap():
    def run(mode: str) -> str:
        return subprocess.run([sys.executable, "-c", MMAPPED_BLOCK_CHECK, mode], capture_output=True, text=True,
                              check=True, cwd=REPO).stdout.split()

    assert run("default") == ["False", "True"]  # glibc's default threshold (128 KiB) maps it afresh
    assert run("kept") == ["True", "False"]
