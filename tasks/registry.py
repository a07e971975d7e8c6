"""Every task the probe runs, by name, with the paper's defaults (datasets: each task's `dataset_for`).

Labelled tasks run on Yelp (Table 8), the latent-space probes on SNLI (Tables 4-7), `lm` on the run's own
training corpus.
"""

from __future__ import annotations

from tasks.base import Task
from tasks.few_label import FewLabel
from tasks.gmm_cluster import GMMCluster
from tasks.interpolation import Interpolation
from tasks.lm import LanguageModelling
from tasks.noisy_recon import NoisyReconstruction
from tasks.recon_bleu import ReconstructionBLEU
from tasks.smoothness import Smoothness
from vae.errors import ProbeError

_ALL: list[Task] = [
    GMMCluster(),
    FewLabel(),
    Smoothness(),
    ReconstructionBLEU(),
    NoisyReconstruction(),
    Interpolation(),
    LanguageModelling(),
    GMMCluster(one2one=True),  # a variant of the authors' script: as many components as classes
]
TASKS: dict[str, Task] = {task.info.name: task for task in _ALL}
# What `probe run-tasks` runs when no --tasks are given: the paper's seven.
DEFAULT_TASKS: tuple[str, ...] = ("gmm-cluster", "few-label", "smoothness", "recon-bleu", "noisy-recon",
                                  "interpolation", "lm")


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ProbeError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[name]
