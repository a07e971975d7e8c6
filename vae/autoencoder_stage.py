"""One autoencoder stage for every run that starts with one.

Ours (pretrain-fb), pretrain and pretrain-anneal begin with an autoencoder stage, and the AE row is that stage
trained for the whole budget. The authors train the autoencoder once and load it into each free-bits run
(vae-pretraining-encoder README.md:30-50: text_beta.py --beta 0, then text_anneal_fb.py --load_path). Here, with
the same data, preset, seed, precision, device and versions, a two-stage run's autoencoder stage is the AE run's
first epochs to the bit. So a run that starts with an autoencoder keeps a copy of its state where a two-stage
method's autoencoder stage ends (the full checkpoint, the best weights so far, and the key below), and another
such run with the same key starts from that copy instead of training those epochs again.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from . import atomic
from probe_common.errors import ProbeError, one_line
from probe_common.versions import installed_version

SNAPSHOT = "checkpoints/autoencoder-stage.pt"  # a checkpoint, as Trainer._save_checkpoint writes it
SNAPSHOT_BEST = "checkpoints/autoencoder-stage-best.pt"  # the stage's best weights at that point
SNAPSHOT_KEY = "checkpoints/autoencoder-stage.json"  # written last: its presence marks a whole snapshot


class AutoencoderStageMismatch(ProbeError):
    """The donor run's autoencoder stage was trained with other settings than this run's."""


@dataclass(frozen=True)
class AutoencoderStageKey:
    """Everything that decides the autoencoder stage's numbers."""

    dataset: str
    train_sha256: str  # the training sentences as read (after the preset's cap)
    valid_sha256: str  # validation decides the best weights and the lr decays
    model_size: dict
    preset_settings: dict
    seed: int
    precision: str
    device: str  # vae.device.device_description
    torch_version: str = torch.__version__
    probe_version: str = dataclasses.field(default_factory=lambda: installed_version("probe"))

    def differences(self, other: AutoencoderStageKey) -> list[str]:
        """'field theirs → ours' for every field that differs (a preset's settings one by one)."""
        mine, theirs = dataclasses.asdict(self), dataclasses.asdict(other)
        changed = []
        for name, value in mine.items():
            if name == "preset_settings":
                changed += [f"preset {key} {theirs[name].get(key)!r} → {setting!r}"
                            for key, setting in value.items() if theirs[name].get(key) != setting]
            elif theirs[name] != value:
                changed.append(f"{name} {theirs[name]!r} → {value!r}")
        return changed


def save_snapshot(run_dir: Path, checkpoint: dict, best_weights: Path, key: AutoencoderStageKey) -> None:
    atomic.torch_save(run_dir / SNAPSHOT, checkpoint)
    atomic.write_bytes(run_dir / SNAPSHOT_BEST, best_weights.read_bytes())
    atomic.write_json(run_dir / SNAPSHOT_KEY, dataclasses.asdict(key))


def copy_snapshot(donor: Path, key: AutoencoderStageKey, checkpoint: Path, best_weights: Path) -> None:
    """Copy the donor run's snapshot to this run's checkpoint and stage-1 best weights, after checking that it
    was trained with this run's key; a missing or different one stops with one line."""
    key_path = donor / SNAPSHOT_KEY
    if not key_path.is_file():
        raise ProbeError(f"--autoencoder-stage-from {donor}: it holds no autoencoder stage to start from "
                         f"({key_path} is missing: the run has not reached the end of that stage, or its method "
                         f"has none)")
    try:
        theirs = AutoencoderStageKey(**json.loads(key_path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as error:
        raise AutoencoderStageMismatch(f"--autoencoder-stage-from {donor}: {key_path} is not an autoencoder-stage "
                                       f"record of this version of probe ({one_line(error)})") from None
    changed = key.differences(theirs)
    if changed:
        raise AutoencoderStageMismatch(f"--autoencoder-stage-from {donor}: its autoencoder stage was trained with "
                                       f"other settings ({'; '.join(changed)}); train this run's own stage instead")
    atomic.write_bytes(checkpoint, (donor / SNAPSHOT).read_bytes())
    atomic.write_bytes(best_weights, (donor / SNAPSHOT_BEST).read_bytes())
