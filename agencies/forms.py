from django import forms


class CodeForm(forms.Form):
    """The one-time password: six digits from the app, or a backup code."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now, or one of your backup codes.",
        error_messages={"required": "Enter the code from your authenticator app."},
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="What the token is for",
        max_length=100,
        help_text="For example: “Weekly export script”. Only you and administrators see it.",
        error_messages={"required": "Say what the token is for."},
    )
