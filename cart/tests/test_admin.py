import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from cart.models import Cart, CartLine
from catalog.tests.factories import make_variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_cart_admin_shows_lines_read_only(admin_client_logged_in):
    variant = make_variant(sku="CART-ADM-1", on_hand=5)
    cart = Cart.objects.create(checkout_order_number="SO-TEST")
    CartLine.objects.create(cart=cart, variant=variant, quantity=2, unit_price=variant.price)
    response = admin_client_logged_in.get(reverse("admin:cart_cart_change", args=[cart.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "SO-TEST" in body
    assert 'name="lines-0-quantity"' not in body


def test_staff_cannot_create_carts_in_the_admin(admin_client_logged_in):
    response = admin_client_logged_in.get(reverse("admin:cart_cart_add"))
    assert response.status_code == 403
