"""Staff roles: the Django groups the back office hands out, and the check staff paths use.

The groups and their permissions are created by ``accounts/migrations/0002_staff_roles.py``
(the matrix is in the README, "Staff roles"). Being staff (``is_staff``) only opens the admin
and the staff endpoints; each staff operation also needs its model permission.
"""

from django.contrib.auth.models import AnonymousUser

from accounts.models import User

CATALOG_MANAGERS = "Catalog managers"
FULFILMENT = "Fulfilment"
CUSTOMER_SERVICE = "Customer service"
FINANCE = "Finance"
INTEGRATIONS = "Integrations"
STAFF_ROLES = (CATALOG_MANAGERS, FULFILMENT, CUSTOMER_SERVICE, FINANCE, INTEGRATIONS)


def has_staff_permission(*, user: User | AnonymousUser, permission: str) -> bool:
    """Return whether ``user`` is active staff holding ``permission`` (``"app.codename"``).

    Superusers hold every permission; a customer never does, whatever their groups.
    """
    return bool(user.is_authenticated and user.is_staff and user.has_perm(permission))
