"""The one registry of dataset names, their files and their columns."""

from __future__ import annotations

from dataclasses import dataclass

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    labelled: bool  # files are `label<TAB>sentence`
    extension: str  # file name is f"{split}{extension}", optionally gzipped

    def file_names(self, split: str) -> list[str]:
        return [f"{split}{self.extension}.gz", f"{split}{self.extension}"]


DATASETS: dict[str, DatasetSpec] = {
    "yelp": DatasetSpec("yelp", labelled=True, extension=".tsv"),
    "snli": DatasetSpec("snli", labelled=False, extension=".txt"),
    "ptb": DatasetSpec("ptb", labelled=False, extension=".txt"),
    "yahoo": DatasetSpec("yahoo", labelled=False, extension=".txt"),
}
