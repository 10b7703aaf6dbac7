"""CSV exports in one shape: a header row, one currency column, amounts as decimal strings.

Every money CSV (statements, reconciliations, partner reports) goes through here so finance gets the
same conventions everywhere and spreadsheet formulas cannot be injected through text fields.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> str:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()
