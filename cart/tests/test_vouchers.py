"""Vouchers and automatic promotions on the cart: the rules, the API and the cart page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import StaffUserFactory, UserFactory
from cart.errors import (
    VoucherExpired,
    VoucherMinSpend,
    VoucherNotApplicable,
    VoucherNotFound,
    VoucherUsedUp,
)
from cart.models import Voucher, VoucherKind, VoucherUse
from cart.pricing.services import redeem_voucher, release_voucher_use
from cart.pricing.vouchers import (
    PricedLine,
    best_discount,
    check_voucher,
    compute_discount,
    find_voucher,
)
from cart.tests.factories import VoucherFactory, default_shipping_method
from catalog.tests.factories import CategoryFactory, make_variant

pytestmark = pytest.mark.django_db
VOUCHER = "/api/v1/cart/voucher/"
ITEMS = "/api/v1/cart/items/"


def line(key: int, total: str, product: int = 0, category: int | None = None) -> PricedLine:
    return PricedLine(
        key=key, product_id=product or key, category_id=category, line_total=Decimal(total)
    )


# ----------------------------------------------------------------------------- rules


def test_a_percentage_is_rounded_per_line():
    voucher = VoucherFactory(value=Decimal("15"))
    discount = compute_discount(voucher=voucher, lines=[line(1, "10.05"), line(2, "3.33")])
    # 1.5075 -> 1.51 and 0.4995 -> 0.50, each line on its own.
    assert discount.lines == {1: Decimal("1.51"), 2: Decimal("0.50")}
    assert discount.lines_total == Decimal("2.01")


def test_a_fixed_amount_is_spread_by_line_value_and_adds_up_exactly():
    voucher = VoucherFactory(kind=VoucherKind.FIXED, value=Decimal("10.00"))
    lines = [line(1, "10.00"), line(2, "10.00"), line(3, "10.00")]
    discount = compute_discount(voucher=voucher, lines=lines)
    assert sorted(discount.lines.values()) == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]
    assert discount.lines_total == Decimal("10.00")


def test_a_fixed_amount_never_exceeds_what_it_applies_to():
    voucher = VoucherFactory(kind=VoucherKind.FIXED, value=Decimal("50.00"))
    discount = compute_discount(voucher=voucher, lines=[line(1, "12.00")])
    assert discount.lines == {1: Decimal("12.00")}


def test_a_restricted_voucher_discounts_only_its_categories_lines():
    shoes = CategoryFactory()
    voucher = VoucherFactory(value=Decimal("50"))
    voucher.categories.add(shoes)
    lines = [line(1, "40.00", category=shoes.pk), line(2, "40.00")]
    assert compute_discount(voucher=voucher, lines=lines).lines == {1: Decimal("20.00")}
    with pytest.raises(VoucherNotApplicable):
        check_voucher(voucher=voucher, lines=[line(2, "40.00")])


def test_free_shipping_takes_the_shipping_off():
    voucher = VoucherFactory(kind=VoucherKind.FREE_SHIPPING, value=0)
    discount = compute_discount(voucher=voucher, lines=[line(1, "10.00")])
    assert (discount.lines, discount.free_shipping) == ({}, True)
    assert discount.worth(shipping=Decimal("5.00")) == Decimal("5.00")


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"active": False}, VoucherNotFound),
        ({"starts_at": timezone.now() + timedelta(days=1)}, VoucherExpired),
        ({"ends_at": timezone.now() - timedelta(seconds=1)}, VoucherExpired),
        ({"min_spend": Decimal("50.00")}, VoucherMinSpend),
        ({"usage_limit": 0}, VoucherUsedUp),
    ],
)
def test_each_rule_has_its_refusal(fields, refusal):
    voucher = VoucherFactory(**fields)
    with pytest.raises(refusal):
        check_voucher(voucher=voucher, lines=[line(1, "20.00")])


def test_the_minimum_spend_refusal_says_how_much():
    voucher = VoucherFactory(min_spend=Decimal("50.00"))
    with pytest.raises(VoucherMinSpend) as refusal:
        check_voucher(voucher=voucher, lines=[line(1, "20.00")])
    assert refusal.value.as_dict()["min_spend"] == "50.00"


def test_codes_match_in_any_case():
    voucher = VoucherFactory(code="Spring10")
    assert find_voucher(code=" spring10 ") == voucher
    with pytest.raises(VoucherNotFound):
        find_voucher(code="autumn")


def test_the_per_customer_limit_counts_guests_by_email():
    voucher = VoucherFactory(per_customer_limit=1)
    redeem_voucher(voucher=voucher, order_number="SO-1", user=None, email="ada@example.com")
    with pytest.raises(VoucherUsedUp):
        check_voucher(voucher=voucher, lines=[line(1, "9.00")], email="ADA@example.com")
    with pytest.raises(VoucherUsedUp):
        redeem_voucher(voucher=voucher, order_number="SO-2", user=None, email="Ada@Example.com")
    check_voucher(voucher=voucher, lines=[line(1, "9.00")], email="grace@example.com")


def test_a_released_use_counts_no_more():
    voucher = VoucherFactory(usage_limit=1)
    redeem_voucher(voucher=voucher, order_number="SO-1", user=None, email="a@example.com")
    voucher.refresh_from_db()
    assert voucher.times_used == 1
    assert release_voucher_use(order_number="SO-1") == 1
    assert release_voucher_use(order_number="SO-1") == 0  # idempotent
    voucher.refresh_from_db()
    assert voucher.times_used == 0
    assert VoucherUse.objects.get().released_at is not None
    redeem_voucher(voucher=voucher, order_number="SO-2", user=None, email="a@example.com")


def test_the_best_discount_wins_and_discounts_never_stack():
    code = VoucherFactory(value=Decimal("10"))
    VoucherFactory(code="SPRING", automatic=True, value=Decimal("20"))
    lines = [line(1, "100.00")]
    best = best_discount(voucher=code, lines=lines, shipping=Decimal("5.00"))
    assert (best.voucher.code, best.lines_total) == ("SPRING", Decimal("20.00"))
    shipping = VoucherFactory(kind=VoucherKind.FREE_SHIPPING, value=0)
    cheap = [line(1, "10.00")]
    best = best_discount(voucher=shipping, lines=cheap, shipping=Decimal("5.00"))
    assert best.voucher == shipping  # 5.00 of shipping beats 20 % of 10.00


def test_a_promotion_outside_its_window_does_not_apply():
    VoucherFactory(automatic=True, ends_at=timezone.now() - timedelta(days=1))
    assert best_discount(voucher=None, lines=[line(1, "10.00")], shipping=Decimal("5")) is None


# -------------------------------------------------------------------------------- API


@pytest.fixture
def cart_token(api_client):
    default_shipping_method()
    make_variant(sku="MUG", price=Decimal("12.00"), on_hand=20)
    response = api_client.post(ITEMS, {"sku": "MUG", "quantity": 2}, format="json")
    return response["X-Cart-Token"]


def test_applying_a_voucher_prices_the_cart_with_it(api_client, cart_token):
    VoucherFactory(code="TENOFF", description="10% off everything")
    response = api_client.post(
        VOUCHER, {"code": "tenoff"}, format="json", HTTP_X_CART_TOKEN=cart_token
    )
    assert response.status_code == 200
    body = response.json()
    assert body["voucher"] == {"code": "TENOFF", "description": "10% off everything"}
    assert (body["subtotal"], body["discount_total"], body["shipping_total"], body["total"]) == (
        "24.00",
        "2.40",
        "5.00",
        "26.60",
    )
    assert body["items"][0]["discount"] == "2.40"
    response = api_client.delete(VOUCHER, HTTP_X_CART_TOKEN=cart_token)
    assert (response.status_code, response.json()["voucher"], response.json()["total"]) == (
        200,
        None,
        "29.00",
    )


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"active": False}, "voucher_not_found"),
        ({"ends_at": timezone.now() - timedelta(days=1)}, "voucher_expired"),
        ({"min_spend": Decimal("100.00")}, "voucher_min_spend"),
        ({"usage_limit": 0}, "voucher_used_up"),
    ],
)
def test_refusals_are_400_with_their_code(api_client, cart_token, fields, code):
    VoucherFactory(code="NOPE", **fields)
    response = api_client.post(
        VOUCHER, {"code": "NOPE"}, format="json", HTTP_X_CART_TOKEN=cart_token
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    if code == "voucher_min_spend":
        assert response.json()["min_spend"] == "100.00"


def test_a_voucher_for_other_products_is_not_applicable(api_client, cart_token):
    voucher = VoucherFactory(code="HATS")
    voucher.categories.add(CategoryFactory())
    response = api_client.post(
        VOUCHER, {"code": "HATS"}, format="json", HTTP_X_CART_TOKEN=cart_token
    )
    assert (response.status_code, response.json()["code"]) == (400, "voucher_not_applicable")


def test_an_unknown_code_is_voucher_not_found(api_client, cart_token):
    response = api_client.post(
        VOUCHER, {"code": "WHAT"}, format="json", HTTP_X_CART_TOKEN=cart_token
    )
    assert (response.status_code, response.json()["code"]) == (400, "voucher_not_found")


def test_a_voucher_that_stops_applying_shows_as_a_warning(api_client, cart_token):
    voucher = VoucherFactory(code="BRIEF")
    api_client.post(VOUCHER, {"code": "BRIEF"}, format="json", HTTP_X_CART_TOKEN=cart_token)
    Voucher.objects.filter(pk=voucher.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    body = api_client.get("/api/v1/cart/", HTTP_X_CART_TOKEN=cart_token).json()
    assert body["discount_total"] == "0.00"
    assert [w["code"] for w in body["warnings"]] == ["voucher_expired"]


def test_an_automatic_promotion_applies_without_a_code(api_client, cart_token):
    VoucherFactory(code="AUTO-FREESHIP", kind=VoucherKind.FREE_SHIPPING, value=0, automatic=True)
    body = api_client.get("/api/v1/cart/", HTTP_X_CART_TOKEN=cart_token).json()
    assert (body["shipping_total"], body["total"], body["voucher"]["code"]) == (
        "0.00",
        "24.00",
        "AUTO-FREESHIP",
    )


def test_staff_manage_vouchers(api_client):
    staff = StaffUserFactory(is_superuser=True)
    api_client.force_authenticate(staff)
    created = api_client.post(
        "/api/v1/vouchers/",
        {"code": "Summer", "kind": "fixed", "value": "5.00", "usage_limit": 100},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["times_used"] == 0
    again = api_client.post("/api/v1/vouchers/", {"code": "SUMMER", "kind": "fixed"}, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "validation_error")
    bad = api_client.post(
        "/api/v1/vouchers/", {"code": "PCT", "kind": "percentage", "value": "150"}, format="json"
    )
    assert bad.status_code == 400
    patched = api_client.patch("/api/v1/vouchers/summer/", {"active": False}, format="json")
    assert (patched.status_code, patched.json()["active"]) == (200, False)
    listed = api_client.get("/api/v1/vouchers/").json()
    assert [v["code"] for v in listed["results"]] == ["Summer"]
    assert api_client.delete("/api/v1/vouchers/SUMMER/").status_code == 204
    assert not Voucher.objects.exists()
    assert api_client.delete("/api/v1/vouchers/SUMMER/").status_code == 404


def test_a_used_voucher_is_deactivated_rather_than_deleted(api_client):
    voucher = VoucherFactory(code="USED")
    redeem_voucher(voucher=voucher, order_number="SO-1", user=None, email="a@example.com")
    api_client.force_authenticate(StaffUserFactory(is_superuser=True))
    assert api_client.delete("/api/v1/vouchers/USED/").status_code == 204
    voucher.refresh_from_db()
    assert voucher.active is False


def test_vouchers_are_staff_only(api_client):
    assert api_client.get("/api/v1/vouchers/").status_code == 401
    api_client.force_authenticate(UserFactory())
    assert api_client.get("/api/v1/vouchers/").status_code == 403
    api_client.force_authenticate(StaffUserFactory(roles=["Fulfilment"]))  # no voucher permission
    assert api_client.get("/api/v1/vouchers/").status_code == 403


# ---------------------------------------------------------------------------- HTML


@pytest.fixture
def page_cart(client):
    default_shipping_method()
    make_variant(sku="TEA", price=Decimal("20.00"), on_hand=20)
    client.post("/cart/add/", {"sku": "TEA", "quantity": "1"})


def test_the_cart_page_applies_and_removes_a_voucher(client, page_cart):
    VoucherFactory(code="TEN")
    response = client.post("/cart/voucher/", {"code": "ten"}, follow=True)
    html = response.content.decode()
    assert "Your voucher has been applied." in html
    assert 'data-testid="discount">&minus;$2.00' in html
    assert 'data-testid="voucher-code">TEN<' in html
    response = client.post("/cart/voucher/remove/", follow=True)
    assert 'data-testid="discount"' not in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "OTHER"}, "We don&#x27;t recognise that voucher code"),
        ({"ends_at": timezone.now() - timedelta(days=1)}, "not valid at the moment"),
        ({"min_spend": Decimal("30.00")}, "Spend at least $30.00 to use that voucher."),
        ({"usage_limit": 0}, "That voucher has been used up."),
    ],
)
def test_the_cart_page_explains_each_refusal(client, page_cart, fields, message):
    VoucherFactory(**{"code": "CODE", **fields})
    response = client.post("/cart/voucher/", {"code": "CODE"}, follow=True)
    assert message in response.content.decode()
    assert 'data-testid="discount"' not in response.content.decode()


def test_the_voucher_form_needs_its_csrf_token(page_cart):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/cart/voucher/", {"code": "X"}).status_code == 403
