"""A report as CSV, Excel, JSON or a plain-text table, with the same column names in each."""

import io
import json
from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.styles import Font

from core import downloads
from core.text import spreadsheet_safe

from .selectors import Report, allowance_text, period_description

EMPTY = "–"


def format_cell(value, kind: str) -> str:
    """How a figure reads on the page and in the terminal."""
    if value is None:
        return EMPTY
    if kind == "allowances":
        return allowance_text(value)
    if kind == "percent":
        return f"{value:.1f}%"
    if kind == "rate":
        return f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def filename(report: Report, extension: str) -> str:
    period = report.period
    name = f"{report.name}_{period.start.isoformat()}_to_{period.last_day.isoformat()}"
    if report.compared_with is not None:
        compared = report.compared_with
        name += f"_vs_{compared.start.isoformat()}_to_{compared.last_day.isoformat()}"
    return f"{name}.{extension}"


def _raw(value) -> str:
    if isinstance(value, list):
        return " then ".join(str(each) for each in value)
    return "" if value is None else spreadsheet_safe(value)


def _figure(value):
    """A cell of figures for a spreadsheet: one allowance stays a number, several read as text."""
    if isinstance(value, list):
        return value[0] if len(value) == 1 else _raw(value)
    return value


def csv_lines(report: Report) -> Iterator[str]:
    """The header (column names) and a line per row; empty cells for figures that have no
    value, such as a share of nothing."""
    names = [column.name for column in report.columns]
    return downloads.csv_lines(
        [names, *([_raw(row[name]) for name in names] for row in report.rows)]
    )


def as_json(report: Report) -> str:
    document = {
        "report": report.name,
        "title": report.title,
        "start": report.period.start.isoformat(),
        "end": report.period.end.isoformat(),
        "rows": report.rows,
    }
    if report.compared_with is not None:
        document["compare_start"] = report.compared_with.start.isoformat()
        document["compare_end"] = report.compared_with.end.isoformat()
    if report.as_at is not None:
        document["as_at"] = report.as_at.isoformat(timespec="minutes")
    return json.dumps(document, indent=2, ensure_ascii=False)


def as_table(report: Report) -> str:
    """Aligned columns for a terminal: labels left, figures right."""
    header = [column.label for column in report.columns]
    body = [
        [format_cell(row[column.name], column.kind) for column in report.columns]
        for row in report.rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if column.kind == "label" else cell.rjust(width)
            for cell, width, column in zip(cells, widths, report.columns, strict=True)
        ).rstrip()

    title = f"{report.title}: {period_description(report)}"
    rule = "  ".join("-" * width for width in widths)
    return "\n".join([title, "", line(header), rule, *(line(cells) for cells in body)])


def as_xlsx(report: Report) -> bytes:
    """A workbook with the title, the period and the table; figures stay numbers, so the
    spreadsheet can sum and chart them."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = report.title[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([period_description(report)])
    for note in report.notes:
        sheet.append([note])
    sheet.append([])
    sheet.append([column.label for column in report.columns])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append(
            [
                spreadsheet_safe(row[column.name])
                if column.kind == "label"
                else _figure(row[column.name])
                for column in report.columns
            ]
        )
        for cell, column in zip(sheet[sheet.max_row], report.columns, strict=True):
            if column.kind == "percent" and cell.value is not None:
                cell.value = cell.value / 100
                cell.number_format = "0.0%"
    for index, column in enumerate(report.columns, start=1):
        width = max(len(column.label), 12)
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


SERIES_COLOURS = ("#1d70b8", "#f47738", "#00703c", "#4c2c92", "#d4351c", "#505a5f")


def _in_a_sentence(label: str) -> str:
    """A column's label inside a sentence: "Count" becomes "count"; "RAG" stays."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def chart_data(report: Report, chart) -> dict:
    """What static/js/report-chart.js draws, and the words around it; the table above says
    the same. A line needs two points: a series with fewer (one month) is drawn as bars, never
    a lone dot. With no figure at all, the caption says there is nothing to draw."""
    rows = report.chart_rows(chart)
    labels = {column.name: column.label for column in report.columns}
    if report.compared_with is not None:
        labels |= {
            "compared_with_per_working_day": report.compared_with.label(),
            "period_per_working_day": report.period.label(),
        }
    series_labels = [labels[name] for name in chart.series]
    datasets = [
        {
            "label": series_labels[index],
            "data": [row[name] for row in rows],
            "colour": SERIES_COLOURS[index % len(SERIES_COLOURS)],
        }
        for index, name in enumerate(chart.series)
    ]
    points = [sum(value is not None for value in series["data"]) for series in datasets]
    kind = "bar" if chart.kind == "line" and min(points, default=0) < 2 else chart.kind
    drawn = any(points)
    shape = "Line chart" if kind == "line" else "Bar chart"
    by = labels[chart.label_column] if chart.rows == "all" else chart.rows
    if report.compared_with is not None:
        summary = f"{shape} of each {_in_a_sentence(by)} per working day, in the two periods"
    else:
        what = " and ".join(_in_a_sentence(label) for label in series_labels)
        summary = f"{shape} of {what} by {_in_a_sentence(by)}"
    if drawn:
        caption = f"{summary}, {period_description(report)}. The table above has the figures."
    else:
        caption = f"{summary}: nothing to draw for {period_description(report)}."
    return {
        "kind": kind,
        "percent": chart.percent,
        "labels": [row[chart.label_column] for row in rows],
        "datasets": datasets,
        "drawn": drawn,
        "summary": summary,
        "caption": caption,
    }
