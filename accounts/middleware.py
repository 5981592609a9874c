from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


class MustChangePasswordMiddleware:
    """Send HTML users flagged ``must_change_password`` to the change-password page."""

    EXEMPT_PREFIXES = ("/api/", "/static/", "/media/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.must_change_password:
            change_url = reverse("accounts:password_change")
            allowed = {change_url, reverse("accounts:logout")}
            if request.path not in allowed and not request.path.startswith(self.EXEMPT_PREFIXES):
                messages.warning(request, "Please choose a new password before continuing.")
                return redirect(f"{change_url}?next={request.path}")
        return self.get_response(request)
