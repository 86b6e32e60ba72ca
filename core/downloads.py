"""CSV downloads: lines written as they are produced, opened correctly by spreadsheets."""

import csv
from collections.abc import Iterable, Iterator
from itertools import chain

from django.http import StreamingHttpResponse

from .text import UTF8_BOM


class _Line:
    """A file-like for csv.writer that hands back each line instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    """Each row as one CSV line, produced when asked for, so memory stays flat."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow(row)


def csv_download(lines: Iterable[str], filename: str) -> StreamingHttpResponse:
    """A streamed CSV attachment. The byte-order mark makes Excel read it as UTF-8, so names
    such as "Zażółć" survive."""
    response = StreamingHttpResponse(
        chain([UTF8_BOM], lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
