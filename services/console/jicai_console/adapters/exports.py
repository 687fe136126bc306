"""Rankings as CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese names) and XLSX (openpyxl)."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode()


def to_xlsx(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook  # on the first export, not at every start of the console (a tenth of a second of CPU)

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(headers))
    for row in rows:
        sheet.append(["" if v is None else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
