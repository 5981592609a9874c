"""factory-boy factories for accounts; other apps import UserFactory and StaffUserFactory."""

import importlib

import factory
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from factory.django import DjangoModelFactory

from accounts.models import Address, User
from accounts.roles import STAFF_ROLES

_staff_roles_migration = importlib.import_module("accounts.migrations.0002_staff_roles")
_later_grants_migration = importlib.import_module(
    "accounts.migrations.0004_staff_roles_pricing_reviews"
)
_integrations_migration = importlib.import_module(
    "accounts.migrations.0005_staff_role_integrations"
)

DEFAULT_PASSWORD = "pass12345!"  # noqa: S105 - a test fixture, not a secret


class UserFactory(DjangoModelFactory):
    """A signed-up shopper whose password is ``DEFAULT_PASSWORD`` ("pass12345!")."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_active = True
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save(update_fields=["password"])


def staff_role_groups(names) -> list[Group]:
    """Return the staff role groups ``names``, as ``accounts/migrations/0002_staff_roles``
    creates them (again, when a transactional test has flushed them)."""
    names = set(names)
    groups = list(Group.objects.filter(name__in=names))
    if len(groups) < len(names):
        _staff_roles_migration.create_staff_roles(django_apps, None)
        _later_grants_migration.grant(django_apps, None)
        _integrations_migration.grant(django_apps, None)
        groups = list(Group.objects.filter(name__in=names))
    assert len(groups) == len(names), f"unknown staff roles: {names}"
    return groups


class StaffUserFactory(UserFactory):
    """A staff member in the staff roles ``roles`` (names of the groups; by default all of
    them, so every staff operation is allowed). ``roles=[]``: staff in no group, who may
    sign in to the admin and do nothing there."""

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):  # noqa: N805
        names = STAFF_ROLES if extracted is None else extracted
        if create and names:
            obj.groups.add(*staff_role_groups(names))

    @factory.post_generation
    def permissions(obj, create, extracted, **kwargs):  # noqa: N805
        """Extra permissions of the user's own (``["inventory.adjust_stock"]``)."""
        if create and extracted:
            obj.user_permissions.add(*[permission(label) for label in extracted])


def permission(label: str) -> Permission:
    """Return the permission ``"app_label.codename"``."""
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


class AddressFactory(DjangoModelFactory):
    """An address in a user's address book (not the default unless asked)."""

    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    full_name = factory.Faker("name")
    line1 = factory.Faker("street_address")
    line2 = ""
    city = factory.Faker("city")
    postal_code = factory.Faker("postcode")
    country = "US"
    phone = "+1 555 0100"
    is_default = False
