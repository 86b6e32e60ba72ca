from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin

from core.forms import GovukErrorsMixin, GovukForm


class SignInForm(GovukErrorsMixin, AuthenticationForm):
    """Django's sign-in form with a message that never says whether the user exists."""

    error_names = {"username": "your username", "password": "your password"}

    error_messages = {
        "invalid_login": (
            "The username or password is not right. Check them and try again; "
            "both are case-sensitive."
        ),
        "inactive": (
            "The username or password is not right. Check them and try again; "
            "both are case-sensitive."
        ),
    }


class CodeForm(GovukForm):
    """The one-time password: six digits from the app, or a backup code."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now, or one of your backup codes.",
        error_messages={"required": "Enter the code from your authenticator app."},
    )


class ApiTokenForm(GovukForm):
    name = forms.CharField(
        label="What the token is for",
        max_length=100,
        help_text="For example: “Weekly export script”. Only you and administrators see it.",
        error_messages={"required": "Say what the token is for."},
    )


class SetUpCodeForm(GovukErrorsMixin, SetPasswordMixin, forms.Form):
    """A set-up code and the new password it lets its person choose (agencies.set_up_codes)."""

    username = forms.CharField(
        label="Username", max_length=150, error_messages={"required": "Enter your username."}
    )
    code = forms.CharField(
        label="Set-up code",
        max_length=40,
        help_text="The code an administrator gave you, like 7K3M-Q9XD-2HBR-W4TN.",
        error_messages={"required": "Enter the set-up code an administrator gave you."},
    )
    new_password1, new_password2 = SetPasswordMixin.create_password_fields(
        label1="New password", label2="New password again"
    )
    error_names = {"new_password1": "a new password", "new_password2": "the new password again"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The rules are in the page's words; Django's are markup.
        self.fields["new_password1"].help_text = ""
        self.fields["new_password2"].help_text = ""

    def clean(self) -> dict[str, Any] | None:
        self.validate_passwords("new_password1", "new_password2")
        return super().clean()


class PasswordChangeForm(GovukErrorsMixin, auth_forms.PasswordChangeForm):
    """Django's password change, its messages in the service's words."""

    error_names = {
        "old_password": "your current password",
        "new_password1": "a new password",
        "new_password2": "the new password again",
    }
