"""Customers as CSV/XLSX (export only: accounts are made by sign-up or by staff)."""

from import_export import resources

from accounts.models import User

COLUMNS = ("email", "first_name", "last_name", "is_active", "is_staff", "date_joined")


class CustomerResource(resources.ModelResource):
    """One row per account; no password hashes or permissions."""

    class Meta:
        model = User
        fields = COLUMNS
        export_order = COLUMNS
