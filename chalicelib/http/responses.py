"""Response shapes other than JSON: CSV downloads.

Every money CSV (statements, reconciliations, partner reports) is rendered by `core.csvformat` in the
service and sent from here with the same headers, so a spreadsheet names the file and reads UTF-8.
"""
from __future__ import annotations

from chalice import Response


def csv_response(text: str, filename: str) -> Response:
    return Response(body=text, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{filename}"',
    })
