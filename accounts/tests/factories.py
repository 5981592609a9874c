"""factory-boy factories for accounts; other apps import UserFactory and StaffUserFactory."""

import factory
from factory.django import DjangoModelFactory

from accounts.models import Address, User

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


class StaffUserFactory(UserFactory):
    """A staff member (admin site access, staff-only API endpoints)."""

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True


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
