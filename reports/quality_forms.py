"""The NFA review form: the shape of what was typed; `quality.record_review` decides."""

from typing import cast

from django import forms

from core.forms import GovukForm
from core.text import FreeTextField
from enquiries.models import Outcome

from .models import NfaReview
from .quality import NFA


class NfaReviewForm(GovukForm):
    error_names = {
        "verdict": "whether you agree with the decision",
        "should_have_been": "the outcome it should have had",
        "what_should_have_happened": "what should have happened",
        "learning": "the learning for the hub",
    }

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    verdict = forms.ChoiceField(
        label="Do you agree with the decision?",
        choices=NfaReview.Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether you agree with the decision."},
    )
    should_have_been = forms.ModelChoiceField(
        label="The outcome it should have had (if you disagree)",
        queryset=Outcome.objects.none(),
        required=False,
        empty_label="Choose an outcome",
    )
    what_should_have_happened = FreeTextField(
        label="What should have happened (if you disagree)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The manager who decided is told this.",
    )
    learning = FreeTextField(
        label="Learning for the hub (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, review: NfaReview, **kwargs) -> None:
        kwargs.setdefault("initial", {}).setdefault("expected_version", review.version)
        super().__init__(*args, **kwargs)
        outcomes = Outcome.objects.filter(is_active=True).exclude(code=NFA)
        cast(forms.ModelChoiceField, self.fields["should_have_been"]).queryset = outcomes.fitting(
            review.enquiry.subject_type
        )

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("verdict") == NfaReview.Verdict.DISAGREE and not cleaned.get(
            "what_should_have_happened"
        ):
            self.add_error("what_should_have_happened", "Say what should have happened instead.")
        return cleaned
