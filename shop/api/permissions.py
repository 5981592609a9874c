from rest_framework.permissions import BasePermission


class IsStaff(BasePermission):
    """Staff only: anonymous callers get 401, signed-in customers 403 ``permission_denied``."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class HasStaffPermission(BasePermission):
    """Staff holding the model permissions the view's action needs.

    The view lists them per action: ``required_permissions = {"adjust":
    ("inventory.adjust_stock",), ...}``. An action it does not list is refused (fail closed);
    ``OPTIONS`` (the ``metadata`` action) only needs staff. Anonymous callers get 401;
    customers and staff without the permission 403 ``permission_denied``. Superusers hold
    every permission.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        action = getattr(view, "action", None)
        if action == "metadata":
            return True
        required = getattr(view, "required_permissions", {}).get(action)
        return required is not None and user.has_perms(required)
