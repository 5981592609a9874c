from rest_framework.permissions import BasePermission


class IsStaff(BasePermission):
    """Staff only: anonymous callers get 401, signed-in customers 403 ``permission_denied``."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
