"""The people forms of the hub settings pages: details, agency, roles and the reason any change
of access needs, checked by the same rules as the administration site (agencies.administration)."""

from typing import Any, cast

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import Q

from agencies import administration
from agencies.models import Agency, Role, User
from core.text import FreeTextField

ROLES_HELP = (
    "Ticking a role asks for it: another administrator approves it before it is given. "
    "Unticking a role takes it away at once."
)
REASON_HELP = (
    "Why their access changes: the approving administrator reads it, and so does the access log."
)
NEW_ACCOUNT_REASON_HELP = (
    "Why they need an account (and any roles ticked): the approving administrator reads it, "
    "and so does the access log. They get no password: the approving administrator is given a "
    "one-time set-up code to hand them, with which they choose one."
)
ACTIVE = [("active", "Active: they can sign in"), ("inactive", "Deactivated: they cannot sign in")]


class PeopleFilter(forms.Form):
    agency = forms.ModelChoiceField(
        label="Agency",
        queryset=Agency.objects.order_by("name"),
        required=False,
        empty_label="All agencies",
    )
    role = forms.ChoiceField(
        label="Role", choices=[("", "All roles"), *Role.choices], required=False
    )


class PersonForm(forms.Form):
    first_name = FreeTextField(
        label="First name",
        max_length=150,
        error_messages={"required": "Enter their first name."},
    )
    last_name = FreeTextField(
        label="Last name", max_length=150, error_messages={"required": "Enter their last name."}
    )
    email = forms.EmailField(
        label="Email address",
        error_messages={
            "required": "Enter their email address.",
            "invalid": "Enter an email address in the correct format, like name@example.org.",
        },
    )
    job_title = FreeTextField(label="Job title (optional)", max_length=200, required=False)
    agency = forms.ModelChoiceField(
        label="Agency",
        queryset=Agency.objects.none(),
        empty_label="Choose an agency",
        error_messages={
            "required": "Choose their agency.",
            "invalid_choice": "Choose an agency from the list.",
        },
    )
    roles = forms.MultipleChoiceField(
        label="Roles",
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=ROLES_HELP,
        error_messages={"invalid_choice": "Choose roles from the list."},
    )
    reason = FreeTextField(
        label="Why",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=REASON_HELP,
    )
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, actor: User, account: User | None = None, **kwargs) -> None:
        self.actor, self.account = actor, account
        super().__init__(*args, **kwargs)
        agencies = Q(is_active=True)
        if account is not None:
            agencies |= Q(pk=account.agency_id)
        cast(forms.ModelChoiceField, self.fields["agency"]).queryset = Agency.objects.filter(
            agencies
        ).order_by("name")

    def details(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[name]
            for name in ("first_name", "last_name", "email", "job_title")
        }


class PersonAddForm(PersonForm):
    username = forms.CharField(
        label="Username",
        max_length=150,
        help_text="What they sign in with: letters, digits and @ . + - _ only.",
        validators=[
            UnicodeUsernameValidator(
                message="Enter a username of letters, digits and @ . + - _ only."
            )
        ],
        error_messages={"required": "Enter a username."},
    )

    field_order = ["username", "first_name", "last_name", "email", "job_title", "agency"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = NEW_ACCOUNT_REASON_HELP
        self.fields["reason"].error_messages["required"] = "Say why they need an account."
        self.fields["reason"].required = True

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken: choose another.")
        return username

    def details(self) -> dict[str, str]:
        return {"username": self.cleaned_data["username"], **super().details()}


class PersonChangeForm(PersonForm):
    is_active = forms.ChoiceField(
        label="Account",
        choices=ACTIVE,
        widget=forms.RadioSelect,
        help_text="Deactivating stops their sign-in and every role at once. Making the account "
        "active again asks for it: another administrator approves it.",
        error_messages={"required": "Choose whether their account is active."},
    )

    plan = administration.AccessPlan()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        account = cast(User, self.account)
        for name in ("first_name", "last_name", "email", "job_title"):
            self.fields[name].initial = getattr(account, name)
        self.fields["agency"].initial = account.agency_id
        self.fields["roles"].initial = sorted(account.roles)
        self.fields["is_active"].initial = "active" if account.is_active else "inactive"

    @property
    def active(self) -> bool:
        return self.cleaned_data.get("is_active") == "active"

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        if self.errors:
            return data
        account = cast(User, self.account)
        self.plan = administration.access_plan(
            account=account, roles=data["roles"], agency=data["agency"], active=self.active
        )
        problems = administration.access_plan_problems(
            account=account, actor=self.actor, plan=self.plan
        )
        for field, found in problems.items():
            for problem in found:
                self.add_error(None if field == "__all__" else field, problem)
        if self.plan.changes and not data.get("reason"):
            self.add_error("reason", "Say why their access changes.")
        return data


class ResetForm(forms.Form):
    reason = FreeTextField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "How you know it is them asking, and why: the approving administrator reads it, "
            "and so does the access log."
        ),
        error_messages={"required": "Say why they need it reset."},
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("approve", "Approve it"), ("decline", "Decline it")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to approve or decline it."},
    )
    note = FreeTextField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional when you approve; say why when you decline. The access log keeps it.",
    )

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        if data.get("decision") == "decline" and not data.get("note"):
            self.add_error("note", "Say why the change is declined.")
        return data
