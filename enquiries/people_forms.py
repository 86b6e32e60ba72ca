"""What a people search and a chronology's filters may be asked, checked field by field."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError

from core.dates import not_before_earliest
from core.forms import GovukForm
from core.text import FreeTextField

from .hooks import CHRONOLOGY_KINDS
from .people import ChronologyFilters, PeopleQuery, read_search


class PeopleSearchForm(GovukForm):
    """One box that understands names, dates of birth, ages, NHS numbers and postcodes, and
    a field for each for whoever wants to say which is which."""

    error_names = {
        "q": "your search",
        "name": "the name",
        "age": "the approximate age",
        "address": "the address or postcode",
    }

    q = FreeTextField(
        label="Name, date of birth, age, NHS number or postcode",
        required=False,
        max_length=200,
        help_text='For example "Jayden Smith", "3/4/2015", "age 7", "943 476 5919" or "OX4 1AA".',
    )
    name = FreeTextField(label="Name", required=False, max_length=200)
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[not_before_earliest],
    )
    age = forms.IntegerField(label="Approximate age", required=False, min_value=0, max_value=120)
    nhs_number = FreeTextField(label="NHS number", required=False, max_length=12)
    address = FreeTextField(label="Address or postcode", required=False, max_length=200)
    page = forms.IntegerField(required=False, min_value=1, max_value=400, widget=forms.HiddenInput)

    def clean_nhs_number(self) -> str:
        number = "".join(self.cleaned_data["nhs_number"].split())
        if number and not (number.isdigit() and len(number) == 10):
            raise ValidationError("Enter a 10-digit NHS number, like 943 476 5919.")
        return number

    def clean(self) -> dict:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            typed = read_search(data.get("q", ""))
        except ValidationError as error:
            self.add_error("q", error.message_dict["q"])
            return data
        query = PeopleQuery(
            name=" ".join(part for part in (typed.name, data.get("name", "")) if part),
            date_of_birth=data.get("date_of_birth") or typed.date_of_birth,
            age=data["age"] if data.get("age") is not None else typed.age,
            nhs_number=data.get("nhs_number") or typed.nhs_number,
            address=data.get("address") or typed.address,
        )
        data["query"] = query
        return data

    @property
    def query(self) -> PeopleQuery:
        return self.cleaned_data.get("query", PeopleQuery()) if self.is_valid() else PeopleQuery()

    @property
    def page_number(self) -> int:
        return (self.cleaned_data.get("page") or 1) if self.is_valid() else 1


class ChronologyForm(GovukForm):
    error_names = {"start": "the from date", "end": "the to date", "kind": "what happened"}

    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.MultipleChoiceField(
        label="What happened",
        required=False,
        choices=list(CHRONOLOGY_KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            self.add_error("end", "The end date must be the same as or after the start date.")
        return data

    @property
    def filters(self) -> ChronologyFilters:
        if not self.is_valid():
            return ChronologyFilters()
        return ChronologyFilters(
            start=self.cleaned_data.get("start"),
            end=self.cleaned_data.get("end"),
            kinds=frozenset(self.cleaned_data.get("kind") or ()),
        )
