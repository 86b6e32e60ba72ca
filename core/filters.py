"""A list's filters, declared once (django-filter) for its page, its CSV and the API.

Each list has one `FilterSet`, in the app that owns the list: the names of its query
parameters, their labels, choices, checks and messages. The page shows its form, the CSV reads
the same, and the API reads it through `ListFilters`, which also puts it in the API's schema.
A FilterSet only narrows the queryset it is handed, which is what the firewall already lets
this person see: it never reads a table of its own.
"""

import copy
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any, cast

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.forms import BoundField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension

from .schema import text_pattern
from .text import FreeTextField

# The search's words, where a list has a search: logged with the filters it ran under.
SEARCH = "q"

# REST framework's words, in which the API's lists have always refused a filter.
NOT_A_CHOICE = {"invalid_choice": '"%(value)s" is not a valid choice.'}
NOT_A_NUMBER = {"invalid": "A valid integer is required."}


class FilterSet(django_filters.FilterSet):
    """The filters of one list. Given nothing (unbound), it is the whole list; given filters
    that need correcting, it narrows nothing, and says what is wrong on each field."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None) -> None:
        if queryset is None:
            # django-filter would read the model's whole table, past the firewall.
            raise TypeError(f"{type(self).__name__} narrows the list it is given: pass one.")
        super().__init__(data, queryset, request=request, prefix=prefix)

    def is_valid(self) -> bool:
        return not self.is_bound or self.form.is_valid()

    @property
    def cleaned(self) -> dict[str, Any]:
        """Each filter's value; empty when none was given or any needs correcting."""
        return self.form.cleaned_data if self.is_bound and self.is_valid() else {}

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # By filter rather than by the form's cleaned data, which may hold more (what a
        # form's `clean` worked out from several fields).
        for name, filter_ in self.filters.items():
            queryset = filter_.filter(queryset, self.cleaned.get(name))
        return queryset

    def asked(self) -> dict[str, Any]:
        """What was asked for, by query parameter, the search's words first: for the access
        log's `search_terms`, which leaves out what was not."""
        names = sorted(self.filters, key=lambda name: name != SEARCH)
        return {name: self.cleaned.get(name) for name in names}

    @property
    def words(self) -> str:
        """The search's words; empty when nothing was searched for."""
        return self.cleaned.get(SEARCH) or ""


# Fields, as the pages show them.


class SelectOptions(BoundField):
    """A select's options as (value, label, selected), worked out once for includes/select.html
    rather than by template filters on every option."""

    @cached_property
    def options(self) -> list[tuple[str, str, bool]]:
        chosen = str(self.value())
        # A select's field: its choices are (value, label) pairs.
        choices = cast(Iterable[tuple[object, str]], cast(forms.ChoiceField, self.field).choices)
        return [(str(value), label, str(value) == chosen) for value, label in choices]


class SelectField(django_filters.fields.ChoiceField):
    """One of the choices, or "" for any: its `empty_label` heads the select."""

    bound_field_class = SelectOptions


class PickedIdField(forms.IntegerField):
    """The id of one of `choices` (a callable of (id, name), read once, and only to check an
    id or show the select)."""

    bound_field_class = SelectOptions
    default_error_messages = {"invalid_choice": NOT_A_CHOICE["invalid_choice"]}

    def __init__(
        self, *, choices: Callable[[], list[tuple[int, str]]], empty_label: str, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.read_choices = choices
        self.empty_label = empty_label

    @cached_property
    def offered(self) -> list[tuple[int, str]]:
        return self.read_choices()

    @property
    def choices(self) -> list[tuple[int | str, str]]:
        return [("", self.empty_label), *self.offered]

    def validate(self, value: int | None) -> None:
        super().validate(value)
        if value is not None and value not in {pk for pk, _ in self.offered}:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )


class YesNoInput(forms.CheckboxInput):
    """A checkbox that hands its field what was sent, so "perhaps" is refused, not true."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class YesNoField(forms.BooleanField):
    """A page's ticked checkbox ("on"), or the API's true and false in REST framework's
    spellings; absent is false, anything else is refused."""

    widget = YesNoInput
    default_error_messages = {"invalid": "Must be a valid boolean."}
    YES = frozenset({"on", "true", "t", "yes", "y", "1"})
    NO = frozenset({"", "off", "false", "f", "no", "n", "0"})

    def to_python(self, value) -> bool:
        if value is None or isinstance(value, bool):
            return bool(value)
        text = str(value).strip().lower()
        if text in self.YES or text in self.NO:
            return text in self.YES
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def prepare_value(self, value) -> bool:
        """Ticked only for a yes, so a page re-shows "false" unticked."""
        try:
            return self.to_python(value)
        except ValidationError:
            return False


# Filters: each list's FilterSet declares its own with these.


class FreeTextFilter(django_filters.CharFilter):
    """Free text under the hub's rules (core.text): length and control characters."""

    field_class = FreeTextField


class YesNoFilter(django_filters.BooleanFilter):
    """Its `method` is given false when unticked, and should narrow only when true."""

    field_class = YesNoField


class SelectFilter(django_filters.ChoiceFilter):
    field_class = SelectField


class WholeNumberFilter(django_filters.NumberFilter):
    """A whole number (django-filter's takes decimals)."""

    field_class: type[forms.IntegerField] = forms.IntegerField


class PickedIdFilter(WholeNumberFilter):
    field_class = PickedIdField


# The API.


class ListFilters(DjangoFilterBackend):
    """The view's `filterset_class` over the queryset the view hands it: filters that need
    correcting are a 400 with each field's messages. The FilterSet is kept as the view's
    `filterset`, for the view to log a search with what was asked."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid():
            # Django's error, which core.api answers in REST framework's shape.
            raise ValidationError(filterset.errors.as_data())
        view.filterset = filterset
        return filterset.qs


class ListFiltersSchema(DjangoFilterExtension):
    """The FilterSet's filters as the list's query parameters, with the limits their fields
    check (a text's length, a number's least value), which django-filter's own extension
    leaves out."""

    target_class = "core.filters.ListFilters"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        # A copy's: the class's own filters must not keep a field, which each FilterSet copies.
        field = copy.deepcopy(filter_field).field
        for parameter in parameters:
            schema = parameter["schema"]
            if isinstance(field, forms.IntegerField):
                schema.pop("format", None)
                schema["type"] = "integer"
                if field.min_value is not None:
                    schema["minimum"] = field.min_value
            if getattr(field, "max_length", None):
                schema["maxLength"] = field.max_length
            if pattern := _pattern(field):
                schema["pattern"] = pattern
        return parameters


def _pattern(field: forms.Field) -> str | None:
    """What a text filter may hold: its own pattern, or free text's (core.schema)."""
    for validator in field.validators:
        if isinstance(validator, RegexValidator):
            # As ECMAScript, which the schema's patterns are, writes its anchors.
            regex = validator.regex
            source = regex if isinstance(regex, str) else regex.pattern
            source = source.replace(r"\A", "^").replace(r"\Z", "$")
            # An empty filter is no filter (django-filter skips it), whatever the pattern.
            return source if field.required else f"^$|{source}"
    if isinstance(field, FreeTextField):
        return text_pattern(free=True, not_blank=False)
    return None
