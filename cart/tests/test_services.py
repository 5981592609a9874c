from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart import services
from cart.errors import CartEmpty, CartNotFound, CheckoutInProgress
from cart.models import Cart, CartLine, CartStatus
from cart.selectors import cart_summary
from cart.tests.factories import CartFactory, CartLineFactory
from catalog.models import ProductStatus
from catalog.tests.factories import make_variant
from inventory.errors import InsufficientStock
from inventory.models import StockHold
from inventory.tests.factories import StockHoldFactory

pytestmark = pytest.mark.django_db


def test_same_sku_adds_to_the_existing_line():
    variant = make_variant(on_hand=10)
    cart = CartFactory()
    services.add_item(cart=cart, sku=variant.sku, quantity=2)
    services.add_item(cart=cart, sku=variant.sku.lower(), quantity=3)
    line = CartLine.objects.get(cart=cart)
    assert line.quantity == 5
    assert line.unit_price == variant.price


@pytest.mark.parametrize("quantity", [0, -1, 100, "2", 1.5, True, None])
def test_add_item_rejects_quantities_outside_1_to_99(quantity):
    variant = make_variant()
    with pytest.raises(ValidationError) as exc:
        services.add_item(cart=CartFactory(), sku=variant.sku, quantity=quantity)
    assert "quantity" in exc.value.message_dict


def test_a_line_never_exceeds_99():
    variant = make_variant(on_hand=500)
    cart = CartFactory()
    services.add_item(cart=cart, sku=variant.sku, quantity=60)
    with pytest.raises(ValidationError):
        services.add_item(cart=cart, sku=variant.sku, quantity=40)
    assert CartLine.objects.get(cart=cart).quantity == 60


@pytest.mark.parametrize("case", ["unknown", "archived", "inactive", "draft"])
def test_add_item_rejects_unknown_or_unsellable_skus(case):
    variant = make_variant()
    if case == "archived":
        variant.product.status = ProductStatus.ARCHIVED
        variant.product.save()
    elif case == "draft":
        variant.product.status = ProductStatus.DRAFT
        variant.product.save()
    elif case == "inactive":
        variant.is_active = False
        variant.save()
    sku = "NOPE-1" if case == "unknown" else variant.sku
    with pytest.raises(ValidationError) as exc:
        services.add_item(cart=CartFactory(), sku=sku, quantity=1)
    assert "sku" in exc.value.message_dict


def test_add_item_beyond_availability_raises_with_available():
    variant = make_variant(on_hand=5, allocated=1)
    StockHoldFactory(variant=variant, quantity=1)  # another cart's hold
    with pytest.raises(InsufficientStock) as exc:
        services.add_item(cart=CartFactory(), sku=variant.sku, quantity=4)
    assert exc.value.as_dict()["available"] == 3


def test_own_holds_count_as_available_for_the_cart():
    variant = make_variant(on_hand=3)
    cart = CartFactory()
    StockHoldFactory(variant=variant, quantity=3, cart_token=cart.token)
    services.add_item(cart=cart, sku=variant.sku, quantity=3)
    assert CartLine.objects.get(cart=cart).quantity == 3


def test_set_quantity_zero_removes_the_line_and_foreign_line_is_not_found():
    cart = CartFactory()
    line = CartLineFactory(cart=cart, quantity=2)
    other = CartLineFactory()
    with pytest.raises(CartNotFound):
        services.set_quantity(cart=cart, line_id=other.pk, quantity=1)
    assert services.set_quantity(cart=cart, line_id=line.pk, quantity=0) is None
    assert not CartLine.objects.filter(pk=line.pk).exists()


def test_set_quantity_checks_stock_only_when_raising():
    variant = make_variant(on_hand=3)
    cart = CartFactory()
    line = CartLineFactory(cart=cart, variant=variant, quantity=3)
    with pytest.raises(InsufficientStock):
        services.set_quantity(cart=cart, line_id=line.pk, quantity=4)
    assert services.set_quantity(cart=cart, line_id=line.pk, quantity=1).quantity == 1


def test_remove_line_of_another_cart_is_not_found():
    with pytest.raises(CartNotFound):
        services.remove_line(cart=CartFactory(), line_id=CartLineFactory().pk)


def test_get_cart_for_unknown_closed_or_user_token_is_not_found():
    closed = CartFactory(status=CartStatus.MERGED)
    owned = CartFactory(user=UserFactory())
    for token in ["not-a-uuid", "00000000-0000-0000-0000-000000000000", closed.token, owned.token]:
        with pytest.raises(CartNotFound):
            services.get_cart_for(user=None, token=token)


def test_get_cart_for_creates_one_open_cart_per_user():
    user = UserFactory()
    first = services.get_cart_for(user=user, create=True)
    assert services.get_cart_for(user=user, create=True) == first
    assert Cart.objects.filter(user=user, status=CartStatus.OPEN).count() == 1


def test_merge_adds_quantities_capped_by_stock_and_closes_the_guest_cart():
    user = UserFactory()
    shared = make_variant(on_hand=5)
    only_guest = make_variant(on_hand=10)
    gone = make_variant(on_hand=0)
    mine = services.get_cart_for(user=user, create=True)
    CartLineFactory(cart=mine, variant=shared, quantity=3)
    guest = CartFactory()
    CartLineFactory(cart=guest, variant=shared, quantity=4)
    CartLineFactory(cart=guest, variant=only_guest, quantity=2, unit_price=Decimal("1.00"))
    CartLineFactory(cart=guest, variant=gone, quantity=1)
    StockHoldFactory(variant=shared, quantity=4, cart_token=guest.token)

    merged = services.merge_guest_cart(user=user, token=guest.token)

    quantities = dict(CartLine.objects.filter(cart=merged).values_list("variant_id", "quantity"))
    assert quantities == {shared.pk: 5, only_guest.pk: 2}
    assert CartLine.objects.get(cart=merged, variant=only_guest).unit_price == Decimal("1.00")
    guest.refresh_from_db()
    assert guest.status == CartStatus.MERGED
    assert not StockHold.objects.filter(cart_token=guest.token).exists()


def test_merge_with_unknown_token_is_not_found():
    with pytest.raises(CartNotFound):
        services.merge_guest_cart(user=UserFactory(), token="00000000-0000-0000-0000-000000000000")


def test_html_login_merges_the_cookie_cart():
    user = UserFactory()
    guest = CartFactory()
    CartLineFactory(cart=guest, quantity=2)
    request = RequestFactory().get("/")
    request.COOKIES["cart_token"] = str(guest.token)
    user_logged_in.send(sender=type(user), request=request, user=user)
    assert services.get_cart_for(user=user).lines.get().quantity == 2


def test_login_with_a_stale_cookie_does_nothing():
    user = UserFactory()
    request = RequestFactory().get("/")
    request.COOKIES["cart_token"] = "garbage"
    user_logged_in.send(sender=type(user), request=request, user=user)
    assert services.get_cart_for(user=user) is None


def test_cart_summary_totals_and_warnings():
    cheaper = make_variant(on_hand=10, price=Decimal("8.00"))
    short = make_variant(on_hand=1, price=Decimal("5.00"))
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=cheaper, quantity=2, unit_price=Decimal("10.00"))
    CartLineFactory(cart=cart, variant=short, quantity=3)
    view = cart_summary(cart=cart)
    assert view.item_count == 5
    assert view.subtotal == Decimal("35.00")
    assert [line.line_total for line in view.lines] == [Decimal("20.00"), Decimal("15.00")]
    assert [line.current_price for line in view.lines] == [Decimal("8.00"), Decimal("5.00")]
    codes = {(w["code"], w["sku"]) for w in view.warnings}
    assert codes == {("price_changed", cheaper.sku), ("insufficient_stock", short.sku)}


def test_cart_summary_runs_a_constant_number_of_queries(django_assert_max_num_queries):
    cart = CartFactory()
    for _ in range(2):
        CartLineFactory(cart=cart)
    # Lines, availability (2), shipping methods and their rates, promotions.
    with django_assert_max_num_queries(6):
        cart_summary(cart=cart)
    for _ in range(8):
        CartLineFactory(cart=cart)
    with django_assert_max_num_queries(6):
        assert len(cart_summary(cart=cart).lines) == 10


def test_reserve_cart_holds_every_line_and_rejects_empty_carts():
    cart = CartFactory()
    with pytest.raises(CartEmpty):
        services.reserve_cart(cart=cart, client_ip="192.0.2.1")
    line = CartLineFactory(cart=cart, quantity=2)
    expires_at = services.reserve_cart(cart=cart, client_ip="192.0.2.1")
    hold = StockHold.objects.get(cart_token=cart.token)
    assert (hold.variant_id, hold.quantity, hold.expires_at) == (line.variant_id, 2, expires_at)


def test_a_cart_in_checkout_cannot_change():
    cart = CartFactory(checkout_order_number="SO-TEST-0001", checkout_started_at=timezone.now())
    variant = make_variant()
    with pytest.raises(CheckoutInProgress):
        services.add_item(cart=cart, sku=variant.sku, quantity=1)
    Cart.objects.filter(pk=cart.pk).update(checkout_started_at=timezone.now() - timedelta(hours=1))
    services.add_item(cart=cart, sku=variant.sku, quantity=1)  # a stale checkout is recovered first


def test_purge_carts_deletes_old_anonymous_carts_and_their_holds():
    old, recent = CartFactory(), CartFactory()
    user_cart = CartFactory(user=UserFactory())
    StockHoldFactory(cart_token=old.token)
    Cart.objects.filter(pk__in=[old.pk, user_cart.pk]).update(
        updated_at=timezone.now() - timedelta(days=31)
    )
    call_command("purge_carts", "--days", "30")
    assert set(Cart.objects.values_list("pk", flat=True)) == {recent.pk, user_cart.pk}
    assert not StockHold.objects.filter(cart_token=old.token).exists()
