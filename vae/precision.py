"""Numeric precision of training and evaluation: bf16 autocast where the hardware multiplies bf16 natively.

Under bf16 autocast the matrix products and LSTMs run in bf16 while weights, optimiser state, losses and every
reduction stay in fp32 (the log-softmax and cross-entropy take fp32 logits).
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from .errors import ProbeError

PRECISIONS = ("auto", "bf16", "fp32")
# CPU flags of native bf16 matrix instructions (AVX512-BF16 dot products, AMX-BF16 tiles).
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when the CPU multiplies bf16 natively (Linux /proc/cpuinfo flags) and oneDNN can use it."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return torch.backends.mkldnn.is_available() and any(flag in flags for flag in NATIVE_BF16_CPU_FLAGS)


def resolve_precision(name: str, device: torch.device) -> str:
    """`auto`: bf16 on a GPU that supports it and on a CPU with native bf16 matrix instructions, else fp32."""
    if name not in PRECISIONS:
        raise ProbeError(f"--precision {name}: choose one of {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def autocast(device: torch.device, precision: str):
    """The autocast context of a resolved precision ("bf16" or "fp32")."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
