import time

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from enquiries.importing import BadFile, CannotImport, ImportResult, import_enquiries


class Command(BaseCommand):
    help = (
        "Load past enquiries from the hub's previous system: a UTF-8 CSV with the columns "
        "reference, family_reference, received_at, rag, decided_at, outcome, referrer_type. "
        "The whole file is checked first; a file with any bad row loads nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The CSV file to load.")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Log the enquiries under this user (default: the inactive mash-import account).",
        )

    def handle(self, *args, file: str, user: str | None, **options) -> None:
        try:
            result = self._import(file, user)
        except BadFile as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(error.summary) from None
        except (CannotImport, OSError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(result))

    def _import(self, file: str, user: str | None) -> ImportResult:
        bar = ProgressBar(self.stderr) if self.stderr.isatty() else None
        try:
            return import_enquiries(file, user=user, progress=bar)
        finally:
            if bar:
                bar.clear()


class ProgressBar:
    """A one-line bar on a terminal, redrawn in place at most ten times a second."""

    WIDTH = 30

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out
        self.drawn_at = 0.0
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.drawn_at < 0.1 and done != total:
            return
        self.phase, self.drawn_at = phase, now
        if total:
            filled = self.WIDTH * done // total
            bar = "#" * filled + "." * (self.WIDTH - filled)
            text = f"{phase:<9} [{bar}] {done:,}/{total:,} rows"
        else:
            text = f"{phase:<9} {done:,} rows"
        self._draw(f"\r{text}\x1b[K")

    def clear(self) -> None:
        if self.phase:
            self._draw("\r\x1b[K")

    def _draw(self, text: str) -> None:
        # Plain, not in the red that stderr gives errors.
        self.out.write(text, style_func=lambda plain: plain, ending="")
        self.out.flush()
