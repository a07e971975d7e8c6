"""Device selection, backends and seeding in one place (precision: vae/precision.py)."""

from __future__ import annotations

import platform
import random
import re
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from probe_common.allocator import keep_freed_memory
from probe_common.errors import ProbeError

DEVICE_FORMS = "auto, cpu, cuda, cuda:N"


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """auto (a GPU when there is one), cpu, cuda or cuda:N; anything else is a one-line ProbeError."""
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", name):
        note = "" if torch.cuda.is_available() else f"; {_no_cuda_reason()}"
        raise ProbeError(f"--device {name}: not a device; use one of {DEVICE_FORMS}{note}")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ProbeError(f"--device {name}: {_no_cuda_reason()}; use --device cpu or auto")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ProbeError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                             f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return device


def _no_cuda_reason() -> str:
    cpu_build = torch.version.cuda is None and getattr(torch.version, "hip", None) is None
    return "CUDA is not available on this machine" + (" (this torch is a CPU-only build)" if cpu_build else "")


def configure_backends(device: torch.device) -> None:
    """cuDNN runs the LSTMs on the GPU; deterministic kernels so a seed gives the same numbers. Freed host memory
    stays with the process (probe_common.allocator): the same numbers with fewer page faults."""
    keep_freed_memory()
    if device.type == "cuda":
        torch.backends.cudnn.enabled = True
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        use_ieee_fp32()


def use_ieee_fp32() -> None:
    """fp32 means IEEE fp32 on a GPU too: by default torch lets cuDNN's LSTMs round fp32 to TF32 (a 10-bit
    mantissa) on Ampere and newer GPUs. On the tiny preset TF32 changed the numbers, not the outcome, and IEEE was
    no slower on an H100 (benchmarks/tf32_quality.py, README); bf16 autocast still runs the output layer in bf16."""
    set_fp32_precision("ieee")


def set_fp32_precision(mode: Literal["ieee", "tf32"]) -> None:
    """"ieee" or "tf32" for fp32 in cuDNN's LSTMs and cuBLAS's matrix products."""
    if hasattr(torch.backends, "fp32_precision"):  # torch >= 2.9: mixing in the legacy allow_tf32 flags is an error
        torch.backends.cuda.matmul.fp32_precision = mode
        torch.backends.cudnn.rnn.fp32_precision = mode
    else:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = mode == "tf32"


def device_description(device: torch.device) -> str:
    """What a run's bits depend on besides its settings: the GPU's name, or the CPU's model and thread count (the
    threads split reductions)."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    try:
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
    except OSError:  # not Linux
        names = []
    return f"cpu: {names[0] if names else platform.machine()}, {torch.get_num_threads()} threads"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict:
    """The global generators' states as tensors and plain values only, so that a checkpoint holding them loads
    with torch.load(weights_only=True): nothing in it is unpickled as an arbitrary object."""
    version, internal, gauss_next = random.getstate()
    numpy_state = np.random.get_state(legacy=False)  # {"state": {"key": uint32 array, "pos"}, "has_gauss", "gauss"}
    numpy_state["state"]["key"] = numpy_state["state"]["key"].tolist()
    state = {
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
        "numpy": numpy_state,
        "torch": torch.get_rng_state(),  # a ByteTensor
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()  # ByteTensors
    return state


def set_rng_state(state: dict) -> None:
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"]), python["gauss_next"]))
    numpy_state = dict(state["numpy"])
    numpy_state["state"] = {**numpy_state["state"], "key": np.asarray(numpy_state["state"]["key"], dtype=np.uint32)}
    np.random.set_state(numpy_state)
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([cuda_state.cpu() for cuda_state in state["cuda"]])


def decoder_token_budget(device: torch.device) -> int:
    """Tokens per decoder call when many importance samples are scored at once (logits are tokens x vocab)."""
    return 262_144 if device.type == "cuda" else 8_192
