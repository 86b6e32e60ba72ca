from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from mash.database_roles import grant_runtime_role


class Command(BaseCommand):
    help = (
        "Grant the runtime role (DATABASE_RUNTIME_ROLE, or --role) what the app needs on every "
        "table: read and write, but only read and add to the logs. Run it as the tables' owner; "
        "every `migrate` does the same."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--role", default=settings.DATABASE_RUNTIME_ROLE)
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, role: str, database: str, **options) -> None:
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("Roles are PostgreSQL's: this database has none to grant to.")
        if not role:
            raise CommandError("Name the runtime role: set DATABASE_RUNTIME_ROLE or pass --role.")
        try:
            statements = grant_runtime_role(connection, role)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        for statement in statements:
            self.stdout.write(statement, style_func=None)
        self.stdout.write(
            f"{role} may read and write the tables, and only read and add to the logs."
        )
