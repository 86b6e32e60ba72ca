"""Every free-text field of every page form, API input and list filter is one of core.text's,
so a field added later cannot skip the length and character rules
(tests/bad_input/test_free_text.py sends each one too much)."""

import inspect

import django_filters
import pytest
from django import forms
from rest_framework import serializers

import enquiries.amendment_forms
import enquiries.api.merge
import enquiries.api.serializers
import enquiries.filters
import enquiries.forms
import enquiries.merge_forms
import reports.forms
import sharing.api.serializers
import sharing.filters
import sharing.forms
import sharing.web_forms
from core.api import RefusesUnknownFields
from core.text import FreeTextField, FreeTextSerializerField

# The sign-in form (agencies.forms) is Django's own, and its fields Django's.
FORM_MODULES = [
    enquiries.forms,
    enquiries.amendment_forms,
    enquiries.merge_forms,
    sharing.web_forms,
    sharing.forms,
    reports.forms,
]
SERIALIZER_MODULES = [enquiries.api.serializers, enquiries.api.merge, sharing.api.serializers]
# Each list's filters, read from the query string by its page, its CSV and the API.
FILTER_MODULES = [enquiries.filters, sharing.filters]


def defined_in(modules, base) -> list[type]:
    return [
        cls
        for module in modules
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, base) and cls.__module__ == module.__name__
    ]


def is_input(serializer: type) -> bool:
    """Request bodies refuse unknown fields; query strings are read by the filter serializers."""
    return issubclass(serializer, RefusesUnknownFields) or serializer.__name__.endswith(
        ("FilterSerializer", "QuerySerializer")
    )


# A password (the step-up before a release) is checked against the person's, never stored.
FORM_FIELDS = [
    (f"{form.__name__}.{name}", field)
    for form in defined_in(FORM_MODULES, forms.BaseForm)
    for name, field in form.base_fields.items()
    if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput)
]
SERIALIZER_FIELDS = [
    (f"{serializer.__name__}.{name}", field)
    for serializer in defined_in(SERIALIZER_MODULES, serializers.Serializer)
    if is_input(serializer)
    for name, field in serializer._declared_fields.items()
    if isinstance(field, serializers.CharField) and field.style.get("input_type") != "password"
]

# By the filter's field class: a FilterSet's class keeps no field of its own (each copies it).
FILTER_FIELDS = [
    (f"{filterset.__name__}.{name}", filter_.field_class)
    for filterset in defined_in(FILTER_MODULES, django_filters.FilterSet)
    for name, filter_ in filterset.base_filters.items()
    if issubclass(filter_.field_class, forms.CharField)
]


def test_the_walk_finds_the_fields():
    assert len(FORM_FIELDS) >= 25
    assert len(SERIALIZER_FIELDS) >= 25
    assert len(FILTER_FIELDS) >= 8


@pytest.mark.parametrize("name, field", FORM_FIELDS, ids=[name for name, _ in FORM_FIELDS])
def test_every_text_field_of_every_page_form_follows_the_rules(name, field):
    assert isinstance(field, FreeTextField), name


@pytest.mark.parametrize(
    "name, field", SERIALIZER_FIELDS, ids=[name for name, _ in SERIALIZER_FIELDS]
)
def test_every_text_field_of_every_api_input_follows_the_rules(name, field):
    assert isinstance(field, FreeTextSerializerField), name


@pytest.mark.parametrize(
    "name, field_class", FILTER_FIELDS, ids=[name for name, _ in FILTER_FIELDS]
)
def test_every_text_filter_of_every_list_follows_the_rules(name, field_class):
    assert issubclass(field_class, FreeTextField), name
