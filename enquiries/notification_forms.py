from django import forms

from core.filters import SelectField
from core.forms import GovukForm

from .models import Notification, NotificationGroup


class EmailChoiceForm(GovukForm):
    """Which kinds of one's notifications also come by email."""

    error_names = {"kinds": "the kinds of notification to email"}

    kinds = forms.MultipleChoiceField(
        label="Also email me when",
        choices=Notification.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "The email says what happened and on which enquiry, with a link to sign in: "
            "never a name or anything an agency recorded. Every notification stays on the "
            "notifications page too."
        ),
        error_messages={"invalid_choice": "Choose from the kinds of notification listed."},
    )


class NotificationFilterForm(GovukForm):
    """Which of one's notifications to show."""

    error_names = {"group": "which notifications to show", "unread": "only unread ones"}

    group = SelectField(
        label="Show",
        choices=NotificationGroup.choices,
        empty_label="All notifications",
        required=False,
        error_messages={"invalid_choice": "Choose which notifications to show from the list."},
    )
    unread = forms.BooleanField(label="Only unread ones", required=False)
