"""Every task the probe runs, by name, and how to make one with options given as values.

`get_task("lm", iw_samples=100)` or `get_task("gmm-cluster", one2one=True)`: the options are the fields of the
task's dataclass, so the command line passes values and never builds task objects. A registered variant
(gmm-cluster-one2one) is a task with preset options. Datasets: each task's `dataset_for` (labelled tasks run on
Yelp, Table 8; the latent-space probes on SNLI, Tables 4-7; `lm` on the run's own training corpus).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from probe_common.errors import ProbeError
from tasks.base import Task
from tasks.few_label import FINETUNE, FewLabel
from tasks.gmm_cluster import GMMCluster
from tasks.interpolation import Interpolation
from tasks.lm import LanguageModelling
from tasks.noisy_recon import NoisyReconstruction
from tasks.recon_bleu import ReconstructionBLEU
from tasks.smoothness import Smoothness


@dataclass(frozen=True)
class RegisteredTask:
    """A task class and the options its registered name fixes (a variant such as gmm-cluster-one2one)."""

    cls: type[Task]
    preset: Mapping[str, Any] = field(default_factory=dict)

    def options(self) -> tuple[str, ...]:
        """The options a caller may give: the dataclass fields the name does not fix."""
        return tuple(f.name for f in dataclasses.fields(self.cls) if f.init and f.name not in self.preset)


TASKS: dict[str, RegisteredTask] = {
    "gmm-cluster": RegisteredTask(GMMCluster),
    "few-label": RegisteredTask(FewLabel),
    "smoothness": RegisteredTask(Smoothness),
    "recon-bleu": RegisteredTask(ReconstructionBLEU),
    "noisy-recon": RegisteredTask(NoisyReconstruction),
    "interpolation": RegisteredTask(Interpolation),
    "lm": RegisteredTask(LanguageModelling),
    # A variant of the authors' script: as many components as classes, one-to-one assignment.
    "gmm-cluster-one2one": RegisteredTask(GMMCluster, {"one2one": True}),
    # The script's default: the VAE's encoder is trained with the linear layer (tasks.finetune_probe).
    "few-label-finetune": RegisteredTask(FewLabel, {"classifier": FINETUNE}),
}
# What `probe run-tasks` runs when no --tasks are given: the paper's seven.
DEFAULT_TASKS: tuple[str, ...] = ("gmm-cluster", "few-label", "smoothness", "recon-bleu", "noisy-recon",
                                  "interpolation", "lm")


def get_task(name: str, **options: Any) -> Task:
    """A new task `name` with the given options; an unknown task or option is a one-line ProbeError."""
    if name not in TASKS:
        raise ProbeError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    registered = TASKS[name]
    allowed = registered.options()
    unknown = [option for option in options if option not in allowed]
    if unknown:
        raise ProbeError(f"task {name} has no option {', '.join(map(repr, unknown))}; its options: "
                         f"{', '.join(allowed)}")
    return registered.cls(**registered.preset, **options)
