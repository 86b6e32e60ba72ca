from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from agencies import access, set_up_codes


class Command(BaseCommand):
    help = (
        "Make the hub's first administrators (two or more), while it has none: the only way to "
        "give the administrator role without a second administrator's approval. Accounts that "
        "do not exist are made in --agency with no password, and each gets a one-time set-up "
        "code, printed once, with which they choose one. Refused once any administrator (or "
        "superuser) exists. Written to the access log."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("usernames", nargs="+", help="Two or more usernames.")
        parser.add_argument(
            "--agency",
            default="",
            help="The agency to make missing accounts in (made too, of kind Other, if new).",
        )

    def handle(self, *args, usernames: list[str], agency: str, **options) -> None:
        try:
            made = access.first_administrators(usernames, agency_name=agency)
        except (PermissionDenied, ValidationError) as error:
            problems = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError(" ".join(problems)) from error
        hours = int(set_up_codes.VALID_FOR.total_seconds() // 3600)
        for first in made:
            account = first.account
            said = "made and " if first.created else ""
            self.stdout.write(f"{account.username} ({account.agency}): {said}given the role.")
            if first.set_up_code:
                self.stdout.write(
                    f"  Set-up code, shown only now: {first.set_up_code}. Hand it to them "
                    f"yourself; it works once, for {hours} hours, at {reverse('set-up-code')}."
                )
        self.stdout.write(
            f"Done at {timezone.localtime():%d %b %Y %H:%M}. From now on, access changes "
            "need two administrators, and this command refuses to run."
        )
