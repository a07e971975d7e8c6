"""The corpus a run was trained on, as its training record gives it: what to load to evaluate on it again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from probe_common.errors import ProbeError

from .corpus import SplitFiles
from .registry import DATASETS


@dataclass(frozen=True)
class TrainingCorpus:
    """A run's training corpus: its name and the split files it read."""

    name: str  # training["dataset"]: a registered name or the folder/file name of a path
    files: Mapping[str, Path]  # training["data_files"]: split -> the file it read

    @classmethod
    def of(cls, training: Mapping | None) -> "TrainingCorpus | None":
        """From a run's training record; None when it names no dataset (HF folders, built-ins)."""
        name = (training or {}).get("dataset")
        if not name:
            return None
        files = {split: Path(path) for split, path in ((training or {}).get("data_files") or {}).items()}
        return cls(name=str(name), files=files)

    @property
    def dataset(self) -> str:
        """What to load to evaluate on it: the registered name, else the folder (or file) the run read."""
        if self.name in DATASETS:
            return self.name
        train = self.files.get("train")
        if train is None or not train.exists():
            raise ProbeError(f"the model was trained on {self.name!r}, which is neither a known dataset nor found "
                             f"at its recorded train file ({train or 'none recorded'}); pass --dataset")
        return self._loaded_as(train)

    @staticmethod
    def _loaded_as(train: Path) -> str:
        # A folder of split files is loaded by its folder; a single-file corpus by the file itself.
        return str(train.parent) if train.name.startswith("train.") else str(train)

    def loads_as(self, dataset: str) -> bool:
        """Whether loading `dataset` (a path) reads this corpus's recorded train file."""
        train = self.files.get("train")
        return self.name not in DATASETS and train is not None and (
            Path(dataset).resolve() == Path(self._loaded_as(train)).resolve())

    def split_files(self, given: SplitFiles | None = None) -> dict[str, Path]:
        """The valid/test files to load `dataset` with: those given (--valid/--test), else the ones the run read.

        A corpus given as a path may have taken them from --valid/--test (a single file has no others), so they
        are passed on explicitly. A registered dataset is read from the data dir: its recorded paths (perhaps
        another machine's) are not used.
        """
        chosen = {split: Path(path) for split, path in (given or {}).items() if path is not None}
        if self.name in DATASETS:
            return chosen
        for split, path in self.files.items():
            if split == "train" or split in chosen:
                continue
            if not path.is_file():
                raise ProbeError(f"{path}: the {split} file the model was trained with is no longer there; "
                                 f"pass --{split} FILE or --dataset")
            chosen[split] = path
        return chosen

    def matches(self, name: str, files: Iterable[Path]) -> bool:
        """Whether a loaded corpus (its name and split files) is this one: same name, or one same file."""
        if name == self.name:
            return True
        recorded = {path.resolve() for path in self.files.values()}
        return any(Path(path).resolve() in recorded for path in files)
