"""Numeric precision of training and scoring: bf16 autocast where the hardware multiplies bf16 natively.

Under bf16 autocast the decoder's output layer (and, when scoring without gradients, its LSTM) runs in bf16;
the encoder, weights, optimiser state, losses and every reduction stay fp32 (the cross-entropy takes fp32 logits).
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from probe_common.errors import ProbeError

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


def resolve_precision(name: str, device: torch.device, training: bool = False) -> str:
    """`auto` for scoring (eval-lm, tasks): bf16 on a GPU that supports it and on a CPU with native bf16 matrix
    instructions, else fp32. `auto` for training: fp32, because bf16 training was measured worse on the tiny
    preset (benchmarks/cpu_precision_quality.py: every bf16 mode moved the test NLL more than 1 % from the same
    seed's fp32 run on 3 of 5 seeds and lost the code on a seed fp32 keeps, where a rounding-sized change of the
    initial weights moved it 0.2-0.4 %), while bf16 scoring of the same weights is within 0.004 nats of fp32.
    `--precision bf16` trains in bf16 on request."""
    if name not in PRECISIONS:
        raise ProbeError(f"--precision {name}: choose one of {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    if training:
        return "fp32"
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def autocast(device: torch.device, precision: str):
    """The autocast context of a resolved precision ("bf16" or "fp32")."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
