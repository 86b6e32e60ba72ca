"""SQL the ORM does not spell: percentiles and calendar months, on PostgreSQL and SQLite.

PostgreSQL has `percentile_cont` and calendar intervals built in. The embedded SQLite demo
gets a percentile aggregate registered on each connection (`register_sqlite_functions`), so
reports aggregate inside the database on both.
"""

from django.db.backends.signals import connection_created
from django.db.models import Aggregate, DateTimeField, FloatField, Func


class Percentile(Aggregate):
    """The continuous percentile (`fraction` 0.5 is the median), interpolating like
    PostgreSQL's `percentile_cont`; NULLs are ignored and no rows give NULL."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError(f"a percentile's fraction is from 0 to 1, not {fraction!r}")
        self.fraction = float(fraction)
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, fraction=repr(self.fraction), **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        clone = self.copy()
        clone.function = SQLITE_PERCENTILE
        clone.template = "%(function)s(%(expressions)s, %(fraction)s)"
        return super(Percentile, clone).as_sql(
            compiler, connection, fraction=repr(self.fraction), **extra_context
        )


class MonthsEarlier(Func):
    """The same wall-clock time `months` calendar months earlier in `zone` (PostgreSQL clamps
    the 31st to the month's last day, as `enquiries.selectors.months_before` does). SQLite,
    the demo's database, counts the months in UTC."""

    output_field = DateTimeField()

    def __init__(self, expression, *, months: int, zone: str) -> None:
        self.months, self.zone = int(months), str(zone)
        super().__init__(expression)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"((({sql}) AT TIME ZONE %s) - make_interval(months => %s)) AT TIME ZONE %s",
            (*params, self.zone, self.months, self.zone),
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"datetime({sql}, %s)", (*params, f"-{self.months} months")


SQLITE_PERCENTILE = "mash_percentile"


class _SqlitePercentile:
    """`percentile_cont` for SQLite: linear interpolation between the closest ranks."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        values = sorted(self.values)
        position = (len(values) - 1) * self.fraction
        lower = int(position)
        upper = min(lower + 1, len(values) - 1)
        return values[lower] + (values[upper] - values[lower]) * (position - lower)


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, _SqlitePercentile)


def connect() -> None:
    connection_created.connect(register_sqlite_functions, dispatch_uid="mash-report-sql")
