"""HTML pages of the accounts app: sign-in, sign-up, the account page and passwords."""

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.addresses.forms import AddressBookForm
from accounts.addresses.rules import address_snapshot
from accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    ProfileForm,
    RegisterForm,
    SetPasswordForm,
)
from accounts.middleware import password_change_url
from accounts.models import Address
from shop.ratelimits import rate_limited

EMAIL_BACKEND = "accounts.backends.EmailBackend"
RESET_SESSION_KEY = "_password_reset_token"
RESET_URL_TOKEN = "set-password"  # noqa: S105 - a placeholder in the URL, not a secret


def safe_next_url(request, default: str = "/") -> str:
    """Return the ``next`` parameter if it points at this site, else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def locked_out_response(request, form=None):
    """Render the friendly lockout page (429), the same page django-axes renders."""
    context = {
        "failure_limit": get_failure_limit(request, None),
        "cooloff_timedelta": get_cool_off(request),
        "username": form.cleaned_data.get("email", "") if form is not None else "",
    }
    return render(request, "accounts/locked_out.html", context, status=429)


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("login")
def login_view(request):
    next_url = safe_next_url(request, default=settings.LOGIN_REDIRECT_URL)
    if request.method == "POST":
        form = LoginForm(request, data=request.POST)
        if form.is_valid():
            user = form.user
            login(request, user)
            if user.must_change_password:
                messages.warning(request, "Please choose a new password before continuing.")
                change_url = password_change_url(user)
                return redirect(f"{change_url}?{urlencode({'next': next_url})}")
            return redirect(next_url)
        if form.locked_out:
            return locked_out_response(request, form)
    else:
        if request.user.is_authenticated:
            return redirect(next_url)
        form = LoginForm(request)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You have been signed out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("register")
def register_view(request):
    next_url = safe_next_url(request)
    form = RegisterForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register_user(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["new_password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc, RegisterForm.field_map)
        else:
            login(request, user, backend=EMAIL_BACKEND)
            messages.success(request, "Welcome! Your account has been created.")
            return redirect(next_url)
    return render(request, "accounts/register.html", {"form": form, "next": next_url})


def _account_context(request, **extra) -> dict:
    user = request.user
    context = {
        "profile_form": ProfileForm(
            initial={"first_name": user.first_name, "last_name": user.last_name}
        ),
        "address_form": AddressBookForm(prefix="new"),
        "addresses": Address.objects.filter(user=user),
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "POST"])
def account_view(request):
    """The account page: profile form and address book (POST updates the profile)."""
    if request.method == "POST":
        form = ProfileForm(data=request.POST)
        if form.is_valid():
            services.update_profile(user=request.user, **form.cleaned_data)
            messages.success(request, "Your details have been saved.")
            return redirect("accounts:account")
        return render(
            request, "accounts/account.html", _account_context(request, profile_form=form)
        )
    return render(request, "accounts/account.html", _account_context(request))


@login_required
@require_http_methods(["GET", "POST"])
def address_add_view(request):
    form = AddressBookForm(data=request.POST or None, prefix="new")
    if request.method == "POST" and form.is_valid():
        try:
            services.create_address(user=request.user, **form.service_fields())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Address added.")
            return redirect("accounts:account")
    return render(request, "accounts/address_form.html", {"form": form, "address": None})


@login_required
@require_http_methods(["GET", "POST"])
def address_edit_view(request, pk: int):
    address = get_object_or_404(Address, pk=pk, user=request.user)
    form = AddressBookForm(
        data=request.POST or None,
        initial={**address_snapshot(address), "is_default": address.is_default},
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        # Unticking "default" on the default address is not a way to have none.
        if not fields["is_default"]:
            fields["is_default"] = None
        try:
            services.update_address(address=address, **fields)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Address updated.")
            return redirect("accounts:account")
    return render(request, "accounts/address_form.html", {"form": form, "address": address})


@login_required
@require_http_methods(["GET", "POST"])
def address_delete_view(request, pk: int):
    address = get_object_or_404(Address, pk=pk, user=request.user)
    if request.method == "POST":
        services.delete_address(address=address)
        if request.htmx:
            return render(
                request,
                "accounts/account.html#address-list",
                {"addresses": Address.objects.filter(user=request.user)},
            )
        messages.success(request, "Address deleted.")
        return redirect("accounts:account")
    return render(request, "accounts/address_confirm_delete.html", {"address": address})


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request):
    next_url = safe_next_url(request, default=reverse("accounts:account"))
    form = PasswordChangeForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc, PasswordChangeForm.field_map)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "Your password has been changed.")
            return redirect(next_url)
    elif request.method == "POST" and form.cleaned_data.get("old_password"):
        # Report a wrong current password too, not only the other mistakes.
        try:
            services.check_current_password(
                user=request.user, password=form.cleaned_data["old_password"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc, PasswordChangeForm.field_map)
    return render(request, "accounts/password_change.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("password_reset")
def password_reset_view(request):
    form = PasswordResetRequestForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(
            email=form.cleaned_data["email"], base_url=settings.SHOP_BASE_URL
        )
        return redirect("accounts:password_reset_done")
    return render(request, "registration/password_reset_form.html", {"form": form})


@require_GET
def password_reset_done_view(request):
    return render(request, "registration/password_reset_done.html")


@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_confirm_view(request, uidb64: str, token: str):
    """Set a new password from an emailed link.

    As Django's own view does, the token is moved into the session and the URL replaced by a
    placeholder, so the token cannot leak through the Referer header of this page.
    """
    if token != RESET_URL_TOKEN:
        if services.get_user_for_reset(uid=uidb64, token=token) is None:
            return render(request, "registration/password_reset_confirm.html", {"validlink": False})
        request.session[RESET_SESSION_KEY] = token
        return redirect("accounts:password_reset_confirm", uidb64=uidb64, token=RESET_URL_TOKEN)

    session_token = request.session.get(RESET_SESSION_KEY, "")
    if services.get_user_for_reset(uid=uidb64, token=session_token) is None:
        return render(request, "registration/password_reset_confirm.html", {"validlink": False})
    form = SetPasswordForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.confirm_password_reset(
                uid=uidb64, token=session_token, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc, SetPasswordForm.field_map)
        else:
            del request.session[RESET_SESSION_KEY]
            return redirect("accounts:password_reset_complete")
    return render(
        request, "registration/password_reset_confirm.html", {"form": form, "validlink": True}
    )


@require_GET
def password_reset_complete_view(request):
    return render(request, "registration/password_reset_complete.html")
