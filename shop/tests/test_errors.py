"""One error-body builder, and error codes declared once per app in one style."""

import importlib
from enum import StrEnum

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIRequestFactory

from orders.checkout.idempotency import run_idempotent
from shop.api.exceptions import exception_handler
from shop.errors import DomainError, ShopErrorCode, validation_error_body, validation_errors

APPS = ["accounts", "catalog", "inventory", "cart", "orders", "notifications"]


def test_the_validation_body_has_the_documented_shape():
    body = validation_error_body({"shipping_address.country": ["Bad country."], "notes": ["Long."]})
    assert body == {
        "code": "validation_error",
        "detail": "Bad country.",
        "errors": {"shipping_address.country": ["Bad country."], "notes": ["Long."]},
    }
    assert type(body["code"]) is str  # plain text in every renderer (JSON, YAML)


def test_the_validation_body_always_has_a_detail():
    assert validation_error_body({})["detail"] == "Invalid input."
    assert validation_error_body({"a": [], "b": ["Second."]})["detail"] == "Second."


def test_django_validation_errors_are_listed_by_field():
    by_field = ValidationError({"city": ["Required."], "country": ["Bad."]})
    assert validation_errors(by_field) == {"city": ["Required."], "country": ["Bad."]}
    assert validation_errors(ValidationError("No.")) == {"non_field_errors": ["No."]}


def test_the_api_and_the_stored_idempotent_answer_give_the_same_body(db):
    from accounts.tests.factories import UserFactory

    exc = ValidationError({"shipping_address.country": ["Enter an ISO code."]})
    request = APIRequestFactory().post("/x")
    api = exception_handler(exc, {"request": request})

    def action(order_number):
        raise exc

    stored = run_idempotent(
        user=UserFactory(),
        key="k-1",
        scope="test",
        payload={},
        action=action,
        replay=lambda order: (201, {}),
    )

    assert api.status_code == stored.status == 400
    assert api.data == stored.body == validation_error_body(validation_errors(exc))


def test_a_domain_error_body_carries_its_code_as_plain_text():
    class OutOfCheese(DomainError):
        code = ShopErrorCode.NOT_FOUND

    body = OutOfCheese("None left.", wheel=3).as_dict()
    assert body == {"code": "not_found", "detail": "None left.", "wheel": 3}
    assert type(body["code"]) is str


@pytest.mark.parametrize("app", APPS)
def test_each_app_declares_its_codes_once_as_a_str_enum(app):
    module = importlib.import_module(f"{app}.errors")
    name = f"{app.removesuffix('s').capitalize()}ErrorCode"
    enum = getattr(module, name)
    assert issubclass(enum, StrEnum), name
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, DomainError)
            and value.__module__ == (module.__name__)
        ):
            assert isinstance(value.code, StrEnum), f"{value.__name__}.code is typed as a string"


def test_no_two_apps_declare_the_same_code():
    seen: dict[str, str] = {code.value: "shop" for code in ShopErrorCode}
    for app in APPS:
        module = importlib.import_module(f"{app}.errors")
        enum = getattr(module, f"{app.removesuffix('s').capitalize()}ErrorCode")
        for code in enum:
            if code.value == "not_found":  # the cart's 404 answers with the generic code
                continue
            assert code.value not in seen, f"{code.value} is declared by {seen[code.value]}"
            seen[code.value] = app
