"""Logs that are only ever added to: the account log and the access log.

Neither a row nor a queryset of them can be changed or deleted through the ORM; PostgreSQL
triggers refuse the same to anyone who tries it in SQL (sharing migration 0004).
"""

from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(self.model.append_only_message())

    def delete(self):
        raise TypeError(self.model.append_only_message())


class AppendOnlyModel(models.Model):
    """A log entry: written once, never changed. `log_name` names the log in the refusal."""

    log_name = "log"

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise TypeError(self.append_only_message())
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(self.append_only_message())

    @classmethod
    def append_only_message(cls) -> str:
        return f"The {cls.log_name} is append-only."
