from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    """Django's sign-in form with a message that never says whether the user exists."""

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
