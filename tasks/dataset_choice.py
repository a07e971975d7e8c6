"""Which corpus a task runs on: the encoder's own training corpus when it has one, the paper's otherwise.

The paper probes each VAE on the corpus it was trained on (Yelp models on Yelp, Table 8; SNLI models on SNLI,
Tables 4-7). Encoders without a training corpus of ours (Hugging Face folders, built-ins fitted on the task
data) get the paper's dataset of each task. A run evaluated on another corpus because `--dataset` asked is
"cross-corpus": its results say so and record how many evaluated words the encoder has never seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vae.data.registry import DATASETS
from vae.errors import ProbeError


@dataclass(frozen=True)
class TrainingCorpus:
    """The corpus an encoder was trained on, as its training record gives it."""

    name: str  # training_config["dataset"]: a registered name or the folder/file name of a path
    files: tuple[Path, ...]  # training_config["data_files"], the split files it read

    @property
    def dataset(self) -> str:
        """What to load to evaluate on it: the registered name, else the folder (or file) the run read."""
        if self.name in DATASETS:
            return self.name
        train = next((f for f in self.files if f.name.startswith("train.")), self.files[0] if self.files else None)
        if train is None or not train.exists():
            raise ProbeError(f"the encoder was trained on {self.name!r}, which is neither a known dataset nor found "
                             f"at its recorded files ({', '.join(map(str, self.files)) or 'none recorded'}); "
                             f"pass --dataset")
        # A folder of split files is loaded by its folder; a single-file corpus by the file itself.
        return str(train.parent) if train.name.startswith("train.") else str(train)

    def matches(self, name: str, files: Iterable[Path]) -> bool:
        """Whether a loaded corpus (its name and split files) is this one: same name, or one same file."""
        if name == self.name:
            return True
        recorded = {path.resolve() for path in self.files}
        return any(Path(path).resolve() in recorded for path in files)


def training_corpus(encoder) -> TrainingCorpus | None:
    """The encoder's training corpus from its training record; None for encoders without one (HF, built-ins)."""
    config = encoder.training_config or {}
    name = config.get("dataset")
    if not name:
        return None
    files = tuple(Path(path) for path in (config.get("data_files") or {}).values())
    return TrainingCorpus(name=str(name), files=files)
