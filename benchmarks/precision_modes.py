"""Numeric modes that the benchmarks compare with the product's precisions; none of them is a product mode.

- `bf16_matrix_math`: fp32 tensors throughout, but oneDNN multiplies fp32 matrices in bf16 with fp32 accumulation
  and fp32 results (its fpmath mode). Unlike bf16 autocast, no output (the logits above all) is rounded to bf16.
  It does not reach the LSTMs: oneDNN's fp32 LSTM kernels ignore the setting (measured: identical outputs).
- `bf16_lstm_kernels`: every nn.LSTM runs oneDNN's bf16 kernels (autocast) and hands fp32 outputs on.
- `perturbed_initialisation`: the initial weights scaled by 1 + 2^-20, a change the size of fp32 rounding: how far
  one seed's result moves when nothing but the last bits change.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn


@contextlib.contextmanager
def bf16_matrix_math():
    if not hasattr(torch.backends.mkldnn, "matmul"):
        raise SystemExit(f"torch {torch.__version__} has no torch.backends.mkldnn.matmul.fp32_precision (torch >= 2.9)")
    saved = torch.backends.mkldnn.matmul.fp32_precision
    torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    try:
        yield
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = saved


@contextlib.contextmanager
def bf16_lstm_kernels():
    fp32_forward = nn.LSTM.forward

    def forward(self, inputs, state=None):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outputs, (hidden, cell) = fp32_forward(self, inputs, state)
        if isinstance(outputs, torch.Tensor):
            outputs = outputs.float()
        else:  # a PackedSequence
            outputs = outputs._replace(data=outputs.data.float())
        return outputs, (hidden.float(), cell.float())

    nn.LSTM.forward = forward
    try:
        yield
    finally:
        nn.LSTM.forward = fp32_forward


@contextlib.contextmanager
def perturbed_initialisation(scale: float = 1 + 2**-20):
    uniform = nn.init.uniform_

    def scaled_uniform(tensor, a=0.0, b=1.0, generator=None):
        uniform(tensor, a, b, generator=generator)
        with torch.no_grad():
            return tensor.mul_(scale)

    nn.init.uniform_ = scaled_uniform
    try:
        yield
    finally:
        nn.init.uniform_ = uniform
