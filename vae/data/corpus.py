"""Read a corpus split from local files, check it line by line, and load it with `datasets`."""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import datasets

datasets.disable_progress_bars()  # our own bars show progress; theirs only add noise

from ..errors import DataError
from .registry import DATASETS, SPLITS, DatasetSpec

DATA_DIR_ENV = "PROBE_DATA_DIR"


@dataclass
class Corpus:
    """One split of a corpus: whitespace-tokenised sentences, labels when the corpus has them."""

    name: str
    split: str
    path: Path
    sentences: list[str]
    labels: list[int] | None

    def __len__(self) -> int:
        return len(self.sentences)

    def head(self, n: int | None) -> "Corpus":
        """The first n examples (files are already shuffled samples, so the head is a fair subset)."""
        if n is None or n >= len(self):
            return self
        labels = self.labels[:n] if self.labels is not None else None
        return Corpus(self.name, self.split, self.path, self.sentences[:n], labels)


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path:
    """--data-dir wins over $PROBE_DATA_DIR; one of them must be given for a named dataset."""
    value = data_dir or os.environ.get(DATA_DIR_ENV)
    if not value:
        raise DataError("<data dir>", f"no data directory: pass --data-dir or set {DATA_DIR_ENV}")
    return Path(value)


def _find_split_file(folder: Path, spec: DatasetSpec, split: str) -> Path:
    for file_name in spec.file_names(split):
        if (folder / file_name).is_file():
            return folder / file_name
    raise DataError(folder, f"split {split!r} not found (looked for {' or '.join(spec.file_names(split))})")


def _spec_for_folder(folder: Path) -> DatasetSpec:
    for extension, labelled in ((".tsv", True), (".txt", False)):
        if any((folder / f"{s}{extension}{gz}").is_file() for s in SPLITS for gz in ("", ".gz")):
            return DatasetSpec(folder.name, labelled=labelled, extension=extension)
    raise DataError(folder, "no train/valid/test .txt or .tsv files in this folder")


def locate(dataset: str, split: str, data_dir: str | os.PathLike | None = None) -> tuple[DatasetSpec, Path]:
    """A registered name (read under the data dir), a folder of split files, or a single file."""
    if split not in SPLITS:
        raise DataError(dataset, f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if dataset in DATASETS:
        spec = DATASETS[dataset]
        return spec, _find_split_file(resolve_data_dir(data_dir) / dataset, spec, split)
    path = Path(dataset)
    if path.is_dir():
        spec = _spec_for_folder(path)
        return spec, _find_split_file(path, spec, split)
    if path.is_file():
        labelled = ".tsv" in path.suffixes
        return DatasetSpec(path.stem.split(".")[0], labelled, ".tsv" if labelled else ".txt"), path
    known = ", ".join(DATASETS)
    raise DataError(dataset, f"not a known dataset ({known}) nor an existing file or folder")


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def check_file(path: Path, labelled: bool) -> None:
    """Fail on the first bad line with its number: empty file, bad UTF-8, empty sentence, TSV without label."""
    n_lines = 0
    with _open_bytes(path) as handle:
        for n_lines, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                raise DataError(path, f"line is not valid UTF-8 ({error.reason} at byte {error.start})", n_lines)
            if labelled:
                label, tab, sentence = line.partition("\t")
                if not tab or not label.strip().lstrip("-").isdigit():
                    raise DataError(path, "expected `label<TAB>sentence` with an integer label", n_lines)
            else:
                sentence = line
            if not sentence.split():
                raise DataError(path, "empty sentence", n_lines)
    if n_lines == 0:
        raise DataError(path, "file is empty")


def load_corpus(dataset: str, split: str, data_dir: str | os.PathLike | None = None) -> Corpus:
    spec, path = locate(dataset, split, data_dir)
    check_file(path, spec.labelled)
    rows = datasets.load_dataset("text", data_files={split: str(path)}, split=split)
    lines = rows["text"]
    if spec.labelled:
        pairs = [line.split("\t", 1) for line in lines]
        sentences = [" ".join(sentence.split()) for _, sentence in pairs]
        labels = [int(label) for label, _ in pairs]
    else:
        sentences, labels = [" ".join(line.split()) for line in lines], None
    return Corpus(spec.name, split, path, sentences, labels)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
