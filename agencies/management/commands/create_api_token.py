from django.core.management.base import BaseCommand, CommandError

from agencies import tokens
from agencies.models import User


class Command(BaseCommand):
    help = (
        "Make an API token for a person and print its key, once: only a digest is kept. "
        "People can also make their own on their account page, and revoke them there."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--name", default="Made with manage.py", help="What the token is for (shown in lists)."
        )

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active person has the username {username!r}.")
        if not user.roles:
            raise CommandError(f"{username} has no role in the hub: the API would refuse them.")
        token, key = tokens.issue(user=user, name=name)
        self.stderr.write(f"Token “{token.name}” for {username}; its key is shown only now:")
        self.stdout.write(key)
