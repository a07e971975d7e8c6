"""The one table of the paper's published numbers (Li et al. 2019), each cell citing its table, row and column.

Read from the paper's tables as printed; `probe reproduce` sets our numbers beside them and
tests/test_reproduce.py checks every value against the paper's text. A "-" in the paper is no cell here.
Row labels are the paper's, with "$\\lambda = 9$" written as "λ = 9".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperCell:
    table: str  # "Table 8"
    row: str  # the paper's row label, e.g. "Ours (λ = 6)"
    column: str  # the paper's column label, e.g. "100" (#labeled) or "PPL"
    value: float  # in the paper's unit (Table 8: accuracy in %)
    metric: str  # what the number measures, for people
    section: str | None = None  # Table 3 holds a PTB and a Yahoo block with the same row labels
    pdf_text: str | None = None  # the cell as the PDF's text extraction garbles it, where it differs from value

    @property
    def cite(self) -> str:
        where = f"{self.table} ({self.section})" if self.section else self.table
        return f"{where}, row {self.row!r}, column {self.column!r}"


def _block(table: str, metrics: dict[str, str], rows: dict[str, tuple], section: str | None = None,
           garbled: dict[tuple[str, str], str] | None = None) -> tuple[PaperCell, ...]:
    """Cells of a table given row by row, in the order of its columns (`metrics`: column -> metric); None is "-"."""
    garbled = garbled or {}
    return tuple(PaperCell(table, row, column, float(value), metric, section, garbled.get((row, column)))
                 for row, values in rows.items() for (column, metric), value in zip(metrics.items(), values, strict=True)
                 if value is not None)


_ACCURACY = "test accuracy (%)"
TABLE8 = _block("Table 8", {"0": "GMM clustering " + _ACCURACY, **{n: f"linear classifier {_ACCURACY}"
                                                                     for n in ("100", "500", "1k", "2k", "10k")}}, {
    "AE": (52.0, 78.4, 81.1, 83.5, 83.8, 83.8),
    "VAE": (56.5, 58.9, 62.3, 62.5, 62.9, 64.0),
    "+ anneal": (56.1, 58.7, 60.6, 61.5, 61.4, 64.1),
    "+ cyclic": (59.3, 78.1, 79.8, 81.1, 81.7, 83.1),
    "+ aggressive": (63.7, 65.6, 68.6, 72.1, 76.7, 79.4),
    "+ FBP (λ = 9)": (60.7, 73.3, 75.0, 76.1, 77.6, 79.5),
    "Ours (λ = 6)": (67.2, 83.8, 88.3, 89.1, 89.5, 89.5),
})

_LM_COLUMNS = {"PPL": "test perplexity (IW)", "Recon": "reconstruction loss (nats)", "AU": "active units",
               "KL": "KL (nats)", "-ELBO": "negative ELBO (nats)"}
# Table 1: the baselines on PTB ("-": the AE has no PPL, KL or ELBO).
TABLE1 = _block("Table 1", _LM_COLUMNS, {
    "AE": (None, 70.36, 32, None, None),
    "VAE": (101.39, 101.27, 0, 0.00, 101.27),
    "+ anneal": (101.40, 101.28, 0, 0.00, 101.28),
    "+ cyclic": (108.97, 101.85, 5, 1.37, 103.22),
    "+ aggressive": (99.83, 100.26, 4, 0.93, 101.19),
    "+ FBP (λ = 7)": (102.82, 95.63, 4, 7.05, 102.67),
    "+ FBP (λ = 3)": (99.62, 98.52, 3, 2.95, 101.48),
    "+ FB (λ = 7)": (104.06, 98.97, 32, 6.74, 105.72),
    "+ FB (λ = 3)": (100.50, 99.94, 32, 2.96, 102.90),
})
# Table 2: encoder pretraining on PTB (Section 2.3). The PDF's text loses its caption: it is the block printed
# right after Table 1.
TABLE2 = _block("Table 2", _LM_COLUMNS, {
    "AE": (None, 70.36, 32, None, None),
    "VAE": (101.39, 101.27, 0, 0.00, 101.27),
    "+ pretrain": (102.26, 101.46, 0, 0.00, 101.46),
    "+ pretrain + anneal": (97.74, 99.67, 2, 1.01, 100.68),
})

# Table 3, PTB block. Left out: "+ cyclic*" (Liu et al.'s own numbers, quoted, not a model of this paper).
TABLE3_PTB = _block("Table 3", _LM_COLUMNS, {
    "LSTM-LM": (100.47, None, None, None, None),
    "VAE": (101.39, 101.27, 0, 0.00, 101.27),
    "+ anneal": (101.40, 101.28, 0, 0.00, 101.28),
    "+ cyclic": (108.97, 101.85, 5, 1.37, 103.22),
    "+ aggressive": (99.83, 100.26, 4, 0.93, 101.19),
    "+ FBP (λ = 3)": (99.62, 98.52, 3, 2.95, 101.48),
    "+ FBP (λ = 2)": (100.96, 99.37, 2, 1.99, 101.36),
    "Ours (λ = 8)": (98.07, 92.60, 32, 10.95, 103.56),
    "Ours (λ = 6)": (96.35, 94.52, 32, 8.15, 102.67),
    "Ours (λ = 4)": (96.17, 96.91, 32, 4.99, 101.90),
}, section="PTB", garbled={("Ours (λ = 8)", "AU"): "-\\bar{3}2"})  # 32: Table 10 prints it plainly

_SNLI_ROWS = ("AE", "VAE", "+ anneal", "+ cyclic", "+ aggressive", "+ FBP (λ = 7)", "Ours (λ = 4)")
TABLE4 = _block("Table 4", {"BLEU": "BLEU of greedy reconstructions"},
                dict(zip(_SNLI_ROWS, ((60.80,), (1.82,), (2.51,), (4.39,), (2.95,), (8.07,), (8.62,)))))
TABLE5 = _block("Table 5", {"PCC": "Pearson correlation of latent l2 distance and word edit distance"},
                dict(zip(_SNLI_ROWS, ((0.620,), (0.039,), (0.009,), (0.482,), (0.209,), (0.242,), (0.683,)))))
TABLE6 = _block("Table 6", {str(k): f"reconstruction loss after {k} word swaps (nats)" for k in (1, 2, 3, 4)},
                dict(zip(_SNLI_ROWS, (
                    (26.05, 40.46, 52.77, 63.07),
                    (33.10, 33.11, 33.11, 33.12),
                    (32.20, 32.65, 33.12, 33.39),
                    (31.83, 32.87, 33.73, 34.38),
                    (31.78, 31.99, 32.21, 32.32),
                    (29.93, 32.59, 34.90, 36.77),
                    (27.92, 29.12, 30.03, 30.85),
                ))))

PAPER_CELLS: tuple[PaperCell, ...] = TABLE8 + TABLE1 + TABLE2 + TABLE3_PTB + TABLE4 + TABLE5 + TABLE6


def paper_cell(table: str, row: str, column: str) -> PaperCell | None:
    """The paper's number for a cell, or None where the paper prints "-"."""
    for cell in PAPER_CELLS:
        if (cell.table, cell.row, cell.column) == (table, row, column):
            return cell
    return None
