"""Signing in (password, then a one-time password, set up at the first sign-in) and a person's
own account: password, backup codes and API tokens."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import set_up_codes, tokens, two_factor
from .decorators import role_required, with_next
from .forms import ApiTokenForm, CodeForm, PasswordChangeForm, SetUpCodeForm, SignInForm
from .models import ApiToken, Role
from .requests import SignedInRequest

# Session keys for what is shown once, on the page after the POST that made it.
NEW_BACKUP_CODES = "mash_new_backup_codes"
NEW_API_TOKEN = "mash_new_api_token"  # noqa: S105 - a session key's name, not a secret


def _next(request: HttpRequest) -> str:
    """Where to go once signed in: the page asked for, if it is one of ours."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse(settings.LOGIN_REDIRECT_URL)


class SignInView(auth_views.LoginView):
    """The password step. A session past it but not past the second factor is sent on to it,
    and so is anyone who comes back here before entering their code."""

    template_name = "registration/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        url = super().get_success_url()
        if two_factor.passed(self.request):
            return url
        return with_next("two-factor", url)


# A new password with a set-up code, for a new account or after an approved password reset.


@never_cache
@sensitive_post_parameters("code", "new_password1", "new_password2")
def set_up_with_code(request: HttpRequest) -> HttpResponse:
    """Open to anyone, like the sign-in page: the code is the credential, random, used once,
    short-lived and spent after a few wrong tries. It chooses the password only; signing in is
    then the usual two steps (and setting up an app, for someone who has none)."""
    form = SetUpCodeForm(request.POST or None)
    if form.is_valid():
        with transaction.atomic():
            code = set_up_codes.find(
                username=form.cleaned_data["username"],
                code=form.cleaned_data["code"],
                request=request,
            )
            if code is None:
                form.add_error(None, set_up_codes.WRONG_CODE)
            else:
                form.validate_password_for_user(code.account, "new_password2")
                if not form.errors:
                    set_up_codes.use(
                        code, password=form.cleaned_data["new_password1"], request=request
                    )
                    messages.success(request, "Password chosen. Sign in with it now.")
                    return redirect("login")
    return render(
        request,
        "registration/set_up_code.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


# The second factor.


@never_cache
@sensitive_post_parameters("code")
@login_required
def verify(request: SignedInRequest) -> HttpResponse:
    """A code from the app, or a backup code, at each sign-in."""
    next_url = _next(request)
    if two_factor.passed(request):
        return redirect(next_url)
    if not two_factor.has_app(request.user):
        return redirect(with_next("two-factor-set-up", next_url))
    form = CodeForm(request.POST or None)
    if form.is_valid():
        outcome = two_factor.verify(request, form.cleaned_data["code"])
        if outcome.accepted:
            return redirect(next_url)
        form.add_error("code", outcome.message)
    return render(request, "registration/two_factor.html", {"form": form, "next": next_url})


@never_cache
@sensitive_post_parameters("code")
@login_required
def set_up(request: SignedInRequest) -> HttpResponse:
    """First sign-in: scan the QR code (or type the secret), confirm with a code, then see the
    backup codes once."""
    next_url = _next(request)
    if two_factor.passed(request):
        return redirect(next_url)
    if two_factor.has_app(request.user):
        return redirect(with_next("two-factor", next_url))
    form = CodeForm(request.POST or None)
    if form.is_valid():
        outcome, codes = two_factor.confirm_app(request, form.cleaned_data["code"])
        if outcome.accepted:
            request.session[NEW_BACKUP_CODES] = codes
            return redirect(with_next("two-factor-backup-codes", next_url))
        form.add_error("code", outcome.message)
    device = two_factor.app_being_set_up(request.user)
    return render(
        request,
        "registration/two_factor_set_up.html",
        {
            "form": form,
            "next": next_url,
            "qr_code": two_factor.qr_code_svg(device),
            "secret": two_factor.secret_text(device),
        },
    )


@never_cache
@login_required
def backup_codes(request: HttpRequest) -> HttpResponse:
    """The backup codes just issued, once: a reload finds them gone."""
    next_url = _next(request)
    codes = request.session.pop(NEW_BACKUP_CODES, None)
    if not codes or not two_factor.passed(request):
        return redirect(next_url)
    return render(request, "registration/backup_codes.html", {"codes": codes, "next": next_url})


# The person's own account.


def _account_page(request: SignedInRequest, *, token_form=None, status: int = 200) -> HttpResponse:
    return render(
        request,
        "account/account.html",
        {
            "backup_codes_left": two_factor.backup_codes_left(request.user),
            "new_backup_codes": request.session.pop(NEW_BACKUP_CODES, None),
            "new_api_token": request.session.pop(NEW_API_TOKEN, None),
            "api_tokens": ApiToken.objects.filter(user=request.user).order_by(
                "revoked_at", "-created_at"
            ),
            "token_form": token_form or ApiTokenForm(),
        },
        status=status,
    )


@never_cache
@role_required(*Role.values)
def account(request: SignedInRequest) -> HttpResponse:
    return _account_page(request)


@require_POST
@role_required(*Role.values)
def renew_backup_codes(request: SignedInRequest) -> HttpResponse:
    request.session[NEW_BACKUP_CODES] = two_factor.issue_backup_codes(
        user=request.user, request=request
    )
    return redirect("account")


@require_POST
@role_required(*Role.values)
def create_api_token(request: SignedInRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _account_page(request, token_form=form, status=400)
    _, key = tokens.issue(user=request.user, name=form.cleaned_data["name"], request=request)
    request.session[NEW_API_TOKEN] = key
    return redirect("account")


@require_POST
@role_required(*Role.values)
def revoke_api_token(request: SignedInRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk, user=request.user)
    if tokens.revoke(token, request=request, why="revoked by its owner"):
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("account")


@method_decorator(role_required(*Role.values), name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change: the validators in settings, and every other session of the
    person ends (agencies.sessions) while this one carries on under a new key."""

    template_name = "account/password_change.html"
    success_url = reverse_lazy("account")
    form_class = PasswordChangeForm

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Password changed. You are signed out everywhere else.")
        return response
