"""Read a corpus split from local files, check it line by line, and load it with `datasets`."""

from __future__ import annotations

import glob
import gzip
import os
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import datasets

datasets.disable_progress_bars()  # our own bars show progress; theirs only add noise

from probe_common.errors import DataError

from .registry import DATASETS, SPLITS, DatasetSpec

DATA_DIR_ENV = "PROBE_DATA_DIR"
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits: "²".isdigit() is True, yet int("²") fails
SplitFiles = Mapping[str, "str | os.PathLike | None"]  # split -> its file, e.g. {"valid": ..., "test": ...}


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


def word_counts(sentences: list[str]) -> list[int]:
    """Words per sentence: the length by which the authors' code sorts and batches sentences (data/text_data.py:185)."""
    return [len(sentence.split()) for sentence in sentences]


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


def _is_tsv(path: Path) -> bool:
    name = path.name[: -len(".gz")] if path.name.endswith(".gz") else path.name
    return name.endswith(".tsv")


def _spec_for_folder(folder: Path) -> DatasetSpec:
    for extension, labelled in ((".tsv", True), (".txt", False)):
        if any((folder / f"{s}{extension}{gz}").is_file() for s in SPLITS for gz in ("", ".gz")):
            return DatasetSpec(folder.name, labelled=labelled, extension=extension)
    raise DataError(folder, "no train/valid/test .txt or .tsv files in this folder")


def _spec_of(dataset: str) -> DatasetSpec:
    if dataset in DATASETS:
        return DATASETS[dataset]
    path = Path(dataset)
    if path.is_dir():
        return _spec_for_folder(path)
    if path.is_file():
        labelled = _is_tsv(path)
        return DatasetSpec(path.name.split(".")[0], labelled, ".tsv" if labelled else ".txt")
    known = ", ".join(DATASETS)
    raise DataError(dataset, f"not a known dataset ({known}) nor an existing file or folder")


def _explicit_file(file: Path, spec: DatasetSpec, split: str) -> Path:
    if not file.is_file():
        raise DataError(file, f"{split} file not found")
    if _is_tsv(file) != spec.labelled:
        # read in the other format, labels would silently become words (or words labels)
        raise DataError(file, f"the {split} file must be a {spec.extension} file, like the rest of dataset {spec.name}")
    return file


def locate(dataset: str, split: str, data_dir: str | os.PathLike | None = None,
           split_files: SplitFiles | None = None) -> tuple[DatasetSpec, Path]:
    """The spec of a dataset and the file of one of its splits.

    A dataset is a registered name (read under the data dir), a folder of split files, or a single file, which is
    a train split only: its valid and test splits must be named in `split_files` (the --valid/--test options), so
    that test metrics are never computed on training sentences. A file in `split_files` wins over the dataset's own.
    """
    if split not in SPLITS:
        raise DataError(dataset, f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    explicit = {name: Path(file) for name, file in (split_files or {}).items() if file is not None}
    unknown = sorted(explicit.keys() - set(SPLITS))
    if unknown:
        raise DataError(explicit[unknown[0]], f"unknown split {unknown[0]!r}; choose one of {', '.join(SPLITS)}")
    spec = _spec_of(dataset)
    if split in explicit:
        return spec, _explicit_file(explicit[split], spec, split)
    if dataset in DATASETS:
        return spec, _find_split_file(resolve_data_dir(data_dir) / dataset, spec, split)
    path = Path(dataset)
    if path.is_dir():
        return spec, _find_split_file(path, spec, split)
    if split != "train":
        raise DataError(path, f"a single file is a train split only, so it has no {split} split: "
                              "pass --valid FILE --test FILE, or use a folder holding train, valid and test files")
    return spec, path


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def _line_text(path: Path, raw: bytes, number: int) -> str:
    r"""One line as `datasets` will read it, or an error.

    A line ends at \n, with an \r before it (or an \r that ends the file) dropped. `datasets` reads with
    universal newlines, which also break lines at a bare \r: rejecting those makes both readers see the
    same lines, so line numbers and labels cannot drift apart.
    """
    if number == 1 and raw.startswith(BYTE_ORDER_MARK):
        raw = raw[len(BYTE_ORDER_MARK):]  # an editor's mark, not text (the loader reads utf-8-sig)
    raw = raw.removesuffix(b"\n").removesuffix(b"\r")
    if b"\r" in raw:
        raise DataError(path, "carriage return (\\r) inside the line: lines must end with \\n or \\r\\n", number)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(path, f"line is not valid UTF-8 ({error.reason} at byte {error.start})", number) from None


def check_file(path: Path, labelled: bool) -> int:
    """Fail on the first bad line with its number; return the number of the last sentence line.

    Bad: an empty file, bad UTF-8, a bare carriage return, an empty sentence, a TSV line without an integer
    label. Blank lines may end a file (editors leave them); anywhere else they are empty sentences.
    """
    last_sentence = 0
    first_blank = None  # the first blank line after the last sentence
    try:
        with _open_bytes(path) as handle:
            for number, raw in enumerate(handle, start=1):
                line = _line_text(path, raw, number)
                if not line.strip():
                    first_blank = first_blank or number
                    continue
                if first_blank is not None:
                    raise DataError(path, "empty sentence (only the last lines of a file may be blank)", first_blank)
                if labelled:
                    label, tab, sentence = line.partition("\t")
                    if not tab or not INTEGER.fullmatch(label.strip()):
                        raise DataError(path, "expected `label<TAB>sentence` with an integer label", number)
                    if not sentence.split():
                        raise DataError(path, "empty sentence", number)
                last_sentence = number
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DataError(path, f"not a valid gzip file ({error})") from None
    if last_sentence == 0:
        raise DataError(path, "file is empty (no sentences)")
    return last_sentence


def _read_lines(path: Path, split: str) -> list[str]:
    """The file's lines, read by `datasets` with the path taken literally (it expands data_files as globs)."""
    absolute = str(path.resolve())
    if "::" in absolute:
        raise DataError(path, "`datasets` reads '::' in a path as a chain of URLs: rename the file or folder")
    rows = datasets.load_dataset("text", data_files={split: glob.escape(absolute)}, split=split, encoding="utf-8-sig")
    return list(rows["text"])


def load_corpus(dataset: str, split: str, data_dir: str | os.PathLike | None = None,
                split_files: SplitFiles | None = None) -> Corpus:
    spec, path = locate(dataset, split, data_dir, split_files)
    last_sentence = check_file(path, spec.labelled)
    lines = _read_lines(path, split)
    if len(lines) < last_sentence or any(line.strip() for line in lines[last_sentence:]):
        raise RuntimeError(f"{path}: the check and datasets disagree on the lines ({last_sentence} sentence lines, "
                           f"{len(lines)} lines read)")
    lines = lines[:last_sentence]  # the blank lines that may end a file
    if spec.labelled:
        pairs = [line.split("\t", 1) for line in lines]
        sentences = [" ".join(sentence.split()) for _, sentence in pairs]
        labels = [int(label) for label, _ in pairs]
    else:
        sentences, labels = [" ".join(line.split()) for line in lines], None
    return Corpus(spec.name, split, path, sentences, labels)
