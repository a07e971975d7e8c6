"""Atomic writes for vae/: the shared ones from probe_common.atomic, plus checkpoints saved with torch."""

from __future__ import annotations

from pathlib import Path

from probe_common.atomic import replace_with, write_bytes, write_json, write_jsonl, write_text

__all__ = ["replace_with", "torch_save", "write_bytes", "write_json", "write_jsonl", "write_text"]


def torch_save(path: Path, value) -> None:
    import torch  # here, not at the top: importing vae.atomic must not load torch

    replace_with(path, lambda handle: torch.save(value, handle))
