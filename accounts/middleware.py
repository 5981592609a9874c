from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


def password_change_url(user) -> str:
    """Return where ``user`` changes their password: the admin's page for staff (who work
    there), the storefront's for customers."""
    return reverse("admin:password_change" if user.is_staff else "accounts:password_change")


class MustChangePasswordMiddleware:
    """Send HTML users flagged ``must_change_password`` to their change-password page."""

    EXEMPT_PREFIXES = ("/api/", "/static/", "/media/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            change_url = password_change_url(user)
            allowed = {change_url, reverse("accounts:logout"), reverse("admin:logout")}
            if request.path not in allowed and not request.path.startswith(self.EXEMPT_PREFIXES):
                messages.warning(request, "Please choose a new password before continuing.")
                return redirect(f"{change_url}?next={request.path}")
        return self.get_response(request)
