"""`manage.py report NAME --start YYYY-MM-DD --end YYYY-MM-DD`: a report on the terminal, or
as CSV or JSON for another program; the same figures as the report pages."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import exports
from reports.periods import Period
from reports.selectors import REPORTS, build_report


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date like 2026-03-31") from None


def _period(start: str | None, end: str | None, what: str, default: Period) -> Period:
    if start is None and end is None:
        return default
    if start is None or end is None:
        raise CommandError(f"Give both {what}start and {what}end, or neither.")
    first, after = _date(start), _date(end)
    if after <= first:
        raise CommandError(
            f"--{what}end is not included in the period: it must be after --{what}start."
        )
    return Period(first, after)


class Command(BaseCommand):
    help = (
        "Print a report. Dates are local dates in the hub's time zone; --end is not included, "
        "so --start 2025-10-01 --end 2026-04-01 is October to March."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=sorted(REPORTS), help="Which report.")
        parser.add_argument("--start", help="First day of the period (default: last full month).")
        parser.add_argument("--end", help="First day after the period.")
        parser.add_argument("--compare-start", help="First day of the compared period.")
        parser.add_argument(
            "--compare-end",
            help="First day after the compared period (default: the same length just before).",
        )
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")

    def handle(self, *args, name: str, format: str, **options) -> None:
        period = _period(options["start"], options["end"], "", REPORTS[name].default_period())
        compared_with = None
        if REPORTS[name].compares:
            compared_with = _period(
                options["compare_start"], options["compare_end"], "compare-", period.before()
            )
        elif options["compare_start"] or options["compare_end"]:
            raise CommandError(f"The {name} report does not compare periods.")
        report = build_report(name, period, compared_with=compared_with)
        if format == "csv":
            for line in exports.csv_lines(report):
                self.stdout.write(line, ending="")
        elif format == "json":
            self.stdout.write(exports.as_json(report))
        else:
            self.stdout.write(exports.as_table(report))
            for note in report.notes:
                self.stdout.write(note)
