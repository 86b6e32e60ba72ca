from typing import TYPE_CHECKING, Any, TypedDict, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.admin import ReadOnlyAdmin
from core.text import FreeTextField

from . import access, set_up_codes, tokens, two_factor
from .administration import AccessPlan, access_plan_apply
from .models import AccessChange, Agency, ApiToken, Role, User

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _Members(TypedDict):
        member_count: int

    AgencyWithMembers = WithAnnotations[Agency, _Members]

# django-otp's own pages would show a device's backup codes, and deleting a device there would
# reset a person's two-factor alone; administrators ask for a reset from the people list.
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "participation", "is_active", "member_count"]
    list_filter = ["kind", "participation", "is_active"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, agency: "AgencyWithMembers") -> int:
        return agency.member_count

    def has_delete_permission(self, request, obj=None) -> bool:
        # Agencies own records and history: deactivate them instead.
        return False


# People's access in the user form (agencies.access): ticking a role, changing the agency or
# reactivating an account asks for it, and a second administrator approves it on the access
# change's page; unticking a role or deactivating takes effect at once. Nobody changes their
# own. Superuser, staff and single permissions are not in the form at all.
#
# Nobody sets another person's password here, nor removes their two-factor alone: either would
# let an administrator sign in as them. The password page and the "reset two-factor" action ask
# for a reset, which a second administrator approves; a new account has no password, and the
# person chooses one with a set-up code (agencies.set_up_codes). An administrator changes their
# own password on their account page, which asks for the current one.


def _administrator(request: HttpRequest) -> User:
    """The person at work in the admin, which lets in only people signed in as staff."""
    return cast(User, request.user)


ROLES_HELP = (
    "Ticking a role asks for it: another administrator approves it before it is given. "
    "Unticking a role takes it away at once."
)
AGENCY_HELP = (
    "Choosing another agency asks for the move: another administrator approves it before "
    "they leave this one."
)
ACTIVE_HELP = (
    "Unticking stops their sign-in and every role at once. Ticking it again asks for their "
    "account back: another administrator approves it."
)
REASON_HELP = (
    "Why their access changes: roles ticked or unticked, a new agency, the account stopped or "
    "back. The approving administrator reads it for what needs approval, and the access log "
    "keeps it for all of it."
)
NEW_ACCOUNT_REASON_HELP = (
    "Why they need an account (and any roles ticked): the approving administrator reads it, "
    "and so does the access log. They get no password: the approving administrator is given a "
    "one-time set-up code to hand them, with which they choose one."
)


class AccessForm(forms.ModelForm):
    """The roles and reason fields, and the checks, shared by the add and change forms.
    `actor` is the administrator at work, set by `UserAdmin.get_form`."""

    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=ROLES_HELP,
    )
    reason = FreeTextField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=REASON_HELP
    )

    actor: User
    plan = AccessPlan()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.roles_before = frozenset(self.instance.roles) if self.instance.pk else frozenset()
        self.agency_before = self.instance.agency_id if self.instance.pk else None
        self.active_before = self.instance.is_active
        self.fields["roles"].initial = sorted(self.roles_before)
        if self.instance.pk:
            self.fields["agency"].help_text = AGENCY_HELP
        else:
            self.fields["reason"].help_text = NEW_ACCOUNT_REASON_HELP
        if "is_active" in self.fields:
            self.fields["is_active"].help_text = ACTIVE_HELP

    def _plan(self, data: dict) -> AccessPlan:
        roles = set(data.get("roles") or ())
        agency = data.get("agency")
        active = data.get("is_active", self.active_before)
        return AccessPlan(
            add_roles=tuple(role for role in Role.values if role in roles - self.roles_before),
            remove_roles=tuple(role for role in Role.values if role in self.roles_before - roles),
            move_to=agency
            if self.instance.pk and agency is not None and agency.pk != self.agency_before
            else None,
            reactivate=bool(self.instance.pk) and active and not self.active_before,
            deactivate=bool(self.instance.pk) and self.active_before and not active,
        )

    def clean(self) -> dict[str, Any]:
        # ModelForm's clean gives back cleaned_data; the stubs allow for a clean that does not.
        data = cast(dict[str, Any], super().clean())
        plan = self._plan(data)
        if plan.changes and self.instance.pk == self.actor.pk:
            raise ValidationError(access.OWN_ACCESS)
        if not self.instance.pk and not data.get("reason"):
            self.add_error("reason", "Say why they need an account.")
        elif plan.asks and not data.get("reason"):
            self.add_error("reason", "Say why they need this access.")
        elif plan.changes and not data.get("reason"):
            # Taken away at once, and the access log says why, as for what is given.
            self.add_error("reason", "Say why their access changes.")
        if self.instance.pk:
            waiting = {
                (change.kind, change.role) for change in access.pending_changes(self.instance.pk)
            }
            for role in plan.add_roles:
                if (AccessChange.Kind.ADD_ROLE, role) in waiting:
                    self.add_error("roles", f"{Role(role).label} is already waiting for approval.")
            if plan.move_to and (AccessChange.Kind.MOVE_AGENCY, "") in waiting:
                self.add_error("agency", "A move for them is already waiting for approval.")
        self.plan = plan
        return data


class UserAccessChangeForm(AccessForm, UserChangeForm):
    pass


class UserAccessCreationForm(AccessForm, UserCreationForm):
    """A new account with no password: the person chooses one with a set-up code, which a
    second administrator's approval issues (`UserAdmin.save_related`)."""

    # Django's way to leave out an inherited field; the stubs know only fields here.
    password1 = None  # type: ignore[assignment]
    password2 = None  # type: ignore[assignment]

    def validate_passwords(self, *args, **kwargs) -> None:
        pass

    def validate_password_for_user(self, *args, **kwargs) -> None:
        pass

    def set_password_and_save(self, user: User, commit: bool = True, **kwargs) -> User:
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class ResetRequestForm(forms.Form):
    """Why a password or two-factor reset is asked for."""

    reason = FreeTextField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=(
            "How you know it is them asking, and why: the approving administrator reads it, "
            "and so does the access log."
        ),
        error_messages={"required": "Say why they need it reset."},
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "agency", "role_list", "is_active"]
    list_filter = ["agency", "groups", "is_active"]
    list_select_related = ["agency"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = [
        (None, {"fields": ["username", "sign_in"]}),
        ("Person", {"fields": ["first_name", "last_name", "email", "job_title", "agency"]}),
        ("Access", {"fields": ["roles", "is_active", "reason"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "agency",
                    "roles",
                    "reason",
                ],
            },
        ),
    ]
    readonly_fields = ["sign_in", "last_login", "date_joined"]
    form = UserAccessChangeForm
    add_form = UserAccessCreationForm
    actions = ["reset_two_factor", "revoke_api_tokens"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user  # the class is made anew for each request
        return form

    def save_model(self, request: HttpRequest, obj: User, form: AccessForm, change: bool) -> None:
        if change:
            # The agency and the account's status change only through agencies.access: a move
            # or a reactivation waits for approval, a deactivation is logged as a removal.
            # An existing person's agency: the form read it from the saved row.
            obj.agency_id = cast(int, form.agency_before)
            obj.is_active = form.active_before
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: AccessForm, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        account, actor, plan = form.instance, _administrator(request), form.plan
        reason = form.cleaned_data.get("reason", "")
        # The same service as the hub settings pages' (agencies.administration).
        asked = access_plan_apply(
            account=account, actor=actor, plan=plan, reason=reason, new_account=not change
        )
        if asked:
            self.message_user(
                request,
                f"Asked for: {'; '.join(change.describe() for change in asked)}. Nothing is "
                "given until another administrator approves it.",
                messages.WARNING,
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "pending_access_changes": access.pending_changes(unquote(object_id)),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Roles")
    def role_list(self, user: User) -> str:
        return ", ".join(sorted(user.roles)) or "none"

    @admin.display(description="Signing in")
    def sign_in(self, user: User) -> str:
        password = (
            "Password set."
            if user.has_usable_password()
            else "No password: they choose one with a set-up code."
        )
        app = (
            "Authenticator app set up."
            if two_factor.has_app(user)
            else "No authenticator app yet: they set one up at their next sign-in."
        )
        return format_html(
            '{} {}<br><a href="{}">Ask for a password reset</a> (a second administrator '
            "approves it). To reset their two-factor sign-in, use the action on the people "
            "list.",
            password,
            app,
            reverse("admin:auth_user_password_change", args=[user.pk]),
        )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = ""):
        """Django's page for setting someone's password, replaced: for someone else it asks for
        a reset (a second administrator approves it, and is given a set-up code to hand them);
        for oneself it is the account page, which asks for the current password."""
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404("No such person.")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if user.pk == request.user.pk:
            self.message_user(
                request,
                "Change your own password on your account page: it asks for your current one.",
                messages.INFO,
            )
            return HttpResponseRedirect(reverse("password-change"))
        form = ResetRequestForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            asked = self._ask_for_resets(
                request, [user], AccessChange.Kind.RESET_PASSWORD, form.cleaned_data["reason"]
            )
            if asked:
                return HttpResponseRedirect(reverse("admin:agencies_user_change", args=[user.pk]))
        return self._reset_page(
            request,
            form,
            [user],
            title=f"Ask for a password reset: {user}",
            explanation=(
                "Nobody sets another person's password. If a second administrator approves "
                "this, their password stops working at once, every session of theirs ends, and "
                "the approving administrator is shown a one-time set-up code to hand them in "
                "person or by phone. With it they choose a new password; their two-factor "
                "sign-in is unchanged."
            ),
        )

    def _ask_for_resets(
        self, request: HttpRequest, people, kind: str, reason: str
    ) -> list[AccessChange]:
        asked = []
        for person in people:
            try:
                asked.append(
                    access.access_change_request(
                        account=person, actor=_administrator(request), kind=kind, reason=reason
                    )
                )
            except (PermissionDenied, ValidationError) as error:
                problems = error.messages if isinstance(error, ValidationError) else [str(error)]
                for problem in problems:
                    self.message_user(request, f"{person}: {problem}", messages.ERROR)
        if asked:
            self.message_user(
                request,
                f"Asked for: {'; '.join(str(change) for change in asked)}. Nothing changes "
                "until another administrator approves it.",
                messages.WARNING,
            )
        return asked

    def _reset_page(self, request, form, people, *, title, explanation, action=""):
        return TemplateResponse(
            request,
            "admin/agencies/user/ask_for_reset.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "explanation": explanation,
                "form": form,
                "people": people,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "opts": self.opts,
            },
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        # People appear in audit trails: deactivate them instead.
        return False

    @admin.action(
        description="Ask to reset two-factor sign-in (a lost phone): another administrator approves"
    )
    def reset_two_factor(self, request, queryset):
        """A page asking why, then a request for each person: nothing is removed until a second
        administrator approves it."""
        form = ResetRequestForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            self._ask_for_resets(
                request,
                list(queryset),
                AccessChange.Kind.RESET_TWO_FACTOR,
                form.cleaned_data["reason"],
            )
            return None
        return self._reset_page(
            request,
            form,
            list(queryset),
            title="Ask to reset two-factor sign-in",
            explanation=(
                "If a second administrator approves this, their authenticator app and backup "
                "codes stop working at once and every session of theirs ends; at their next "
                "sign-in, with their own password, they set up an app again."
            ),
            action="reset_two_factor",
        )

    @admin.action(description="Revoke all their API tokens")
    def revoke_api_tokens(self, request, queryset) -> None:
        revoked = sum(
            tokens.revoke_all(user, request=request, why="revoked by an administrator")
            for user in queryset
        )
        self.message_user(request, f"{revoked} API tokens revoked.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owners (or `manage.py create_api_token`), never shown again,
    and never edited: administrators see them and revoke them."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "user__agency"]
    search_fields = ["name", "prefix", "user__username"]
    fields = ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = cast(list[str], fields)  # names only, no groups
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        revoked = sum(
            tokens.revoke(token, request=request, why="revoked by an administrator")
            for token in queryset.select_related("user")
        )
        self.message_user(request, f"{revoked} API tokens revoked.", messages.SUCCESS)


@admin.register(AccessChange)
class AccessChangeAdmin(ReadOnlyAdmin):
    """Requests for access, made from the people pages, decided here by a second
    administrator: approved (with an optional note) or declined (saying why)."""

    list_display = [
        "requested_at",
        "person",
        "change",
        "requested_by",
        "status",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["account__agency", "agency", "requested_by", "decided_by"]
    # Waiting requests first.
    ordering = [
        Case(When(status=AccessChange.Status.PENDING, then=Value(0)), default=Value(1)),
        "-requested_at",
    ]
    fields = [
        "person",
        "change",
        "reason",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    ]
    readonly_fields = cast(list[str], fields)  # names only, no groups
    # Nothing on a request is edited: it is approved or declined (`decide`).
    change_form_template = "admin/agencies/accesschange/change_form.html"

    @admin.display(description="Person", ordering="account__last_name")
    def person(self, change: AccessChange) -> str:
        return f"{change.account} ({change.account.agency})"

    @admin.display(description="Change")
    def change(self, change: AccessChange) -> str:
        return capfirst(change.describe())

    def may_decide(self, request: HttpRequest, change: AccessChange) -> str | None:
        """Why this person may not decide `change`, or None if they may."""
        if not change.is_pending:
            return f"{change.get_status_display()} by {change.decided_by}."
        if not request.user.has_perm("agencies.change_accesschange"):
            return "Only administrators decide requests for access."
        if request.user.pk == change.requested_by_id:
            return "You asked for this change: another administrator decides it."
        if request.user.pk == change.account_id:
            return "This change is to your own access: another administrator decides it."
        return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        change = self.get_object(request, unquote(object_id))
        if change is not None:
            refusal = self.may_decide(request, change)
            extra_context = {
                **(extra_context or {}),
                "may_decide": refusal is None,
                "decide_refusal": refusal,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        decide = self.admin_site.admin_view(require_POST(self.decide))
        return [
            path("<path:object_id>/decide/", decide, name="agencies_accesschange_decide"),
            *super().get_urls(),
        ]

    def decide(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Approve or decline, from the buttons on the request's page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        change = self.get_object(request, unquote(object_id))
        if change is None:
            raise Http404("No such request.")
        page = reverse("admin:agencies_accesschange_change", args=[change.pk])
        note = request.POST.get("note", "")
        try:
            if request.POST.get("decision") == "approve":
                change = access.access_change_approve(
                    change_id=change.pk, actor=_administrator(request), note=note
                )
                if change.one_time_code:
                    return self._set_up_code_page(request, change)
                done = "Approved"
            elif request.POST.get("decision") == "decline":
                access.access_change_decline(
                    change_id=change.pk, actor=_administrator(request), note=note
                )
                done = "Declined"
            else:
                self.message_user(request, "Choose approve or decline.", messages.ERROR)
                return HttpResponseRedirect(page)
        except (PermissionDenied, ValidationError) as error:
            messages_ = error.messages if isinstance(error, ValidationError) else [str(error)]
            for message in messages_:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(page)
        self.message_user(request, f"{done}: {change}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:agencies_accesschange_changelist"))

    def _set_up_code_page(self, request: HttpRequest, change: AccessChange) -> HttpResponse:
        """The set-up code, once, in the response to the approval itself: it is in no message,
        session or page that could show it again (the admin sends no-cache headers)."""
        return TemplateResponse(
            request,
            "admin/agencies/accesschange/set_up_code.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Set-up code for {change.account}",
                "change": change,
                "code": change.one_time_code,
                "expires_at": change.set_up_code.expires_at,
                "set_up_url": request.build_absolute_uri(reverse("set-up-code")),
                "valid_hours": int(set_up_codes.VALID_FOR.total_seconds() // 3600),
                "opts": self.opts,
            },
        )
