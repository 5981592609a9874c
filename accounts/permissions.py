from rest_framework.permissions import BasePermission

from accounts.errors import PasswordChangeRequired


class PasswordChangeNotRequired(BasePermission):
    """Block users flagged ``must_change_password`` (403 ``password_change_required``).

    Views that must stay reachable (me, password change, logout, token refresh) set
    ``allow_when_password_change_required = True``.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.must_change_password):
            return True
        if getattr(view, "allow_when_password_change_required", False):
            return True
        raise PasswordChangeRequired()
