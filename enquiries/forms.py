from django import forms

from agencies.models import User

from .models import Enquiry, Rag
from .selectors import QueueFilters, triage_staff


class QueueFilterForm(forms.Form):
    """The triage queue's filters, read from the query string."""

    rating = forms.ChoiceField(label="RAG", choices=[("", "Any")] + Rag.choices, required=False)
    state = forms.ChoiceField(
        label="State",
        choices=[("", "Any open")]
        + [(s.value, s.label) for s in Enquiry.State if s in Enquiry.OPEN_STATES],
        required=False,
    )
    assignee = forms.ModelChoiceField(
        label="Assigned to", queryset=User.objects.none(), required=False, empty_label="Anyone"
    )
    mine = forms.BooleanField(label="Only mine", required=False)
    at_risk = forms.BooleanField(label="At risk", required=False)
    breached = forms.BooleanField(label="Breached", required=False)
    q = forms.CharField(label="Reference or name", required=False, max_length=100)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = triage_staff()

    def filters(self) -> QueueFilters:
        if not self.is_valid():
            return QueueFilters()
        data = self.cleaned_data
        return QueueFilters(
            rating=data["rating"],
            state=data["state"],
            assignee_id=data["assignee"].pk if data["assignee"] else None,
            mine=data["mine"],
            at_risk=data["at_risk"],
            breached=data["breached"],
            search=data["q"],
        )
