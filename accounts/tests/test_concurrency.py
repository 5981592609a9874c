"""Races that only a real database with row locks can settle (run on PostgreSQL)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import services
from accounts.models import Address, User
from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


def run_concurrently(target, count: int) -> list:
    barrier = threading.Barrier(count)
    results: list = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(target(index))
        except Exception as exc:  # collected and asserted by the test
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_default_addresses_leave_exactly_one_default():
    user = UserFactory()
    results = run_concurrently(
        lambda i: services.create_address(user=user, is_default=True, **ADDRESS), 6
    )
    assert all(isinstance(r, Address) for r in results), results
    assert Address.objects.filter(user=user).count() == 6
    assert Address.objects.filter(user=user, is_default=True).count() == 1


def test_concurrent_first_addresses_leave_exactly_one_default():
    user = UserFactory()
    results = run_concurrently(lambda i: services.create_address(user=user, **ADDRESS), 6)
    assert all(isinstance(r, Address) for r in results), results
    assert Address.objects.filter(user=user, is_default=True).count() == 1


def test_concurrent_sign_ups_with_one_email_create_one_account():
    results = run_concurrently(
        lambda i: services.register_user(
            email="Race@Example.com" if i % 2 else "race@example.com", password="s3cure-Passw0rd"
        ),
        4,
    )
    created = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 1
    assert len(refused) == 3
    assert all("email" in r.message_dict for r in refused)
    assert User.objects.filter(email__iexact="race@example.com").count() == 1
