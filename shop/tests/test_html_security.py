"""Security of the server-rendered HTML pages.

- every ``<form method="post">`` carries Django's CSRF token, and a POST without one is
  refused (403) on every state-changing shopper action;
- a shopper cannot see or act on another shopper's orders or addresses (404, not 403: the
  order number or address id must not even be confirmed to exist);
- the staff dashboard refuses customers;
- the Content-Security-Policy allows same-origin scripts only, and the pages need nothing
  more: no inline ``<script>`` and no ``on*=`` event-handler attributes;
- bad input to HTML pages answers a friendly 4xx (or a redirect with a message), never 500.
"""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Address
from accounts.tests.factories import AddressFactory, StaffUserFactory, UserFactory
from cart.models import CartLine
from catalog.tests.factories import CategoryFactory, make_variant
from orders.models import Order, OrderStatus, ReturnRequest
from orders.tests.factories import cart_with, fast_gateway, order_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

HTMX = {"HTTP_HX_REQUEST": "true"}


class PageParser(HTMLParser):
    """Collect the facts the checks below need from one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []  # {"method", "action", "csrf": bool}
        self.inline_scripts = 0
        self.handler_attributes: list[str] = []
        self.javascript_urls: list[str] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handler_attributes.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.javascript_urls.append(f"<{tag} {name}={value!r}>")
        # JSON data blocks are inert; any other inline script would need 'unsafe-inline'.
        inert = attributes.get("type") in ("application/json", "application/ld+json")
        if tag == "script" and not attributes.get("src") and not inert:
            self.inline_scripts += 1
        if tag == "form":
            self._form = {
                "method": (attributes.get("method") or "get").lower(),
                "action": attributes.get("action") or "",
                "csrf": False,
            }
            self.forms.append(self._form)
        is_token = attributes.get("name") == "csrfmiddlewaretoken" and attributes.get("value")
        if tag == "input" and self._form is not None and is_token:
            self._form["csrf"] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def parse(response) -> PageParser:
    parser = PageParser()
    parser.feed(response.content.decode())
    return parser


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def shop():
    """A category, a two-variant product (one sold out) and a single-variant product."""
    category = CategoryFactory(name="Kitchen", slug="kitchen")
    teapot = make_variant(
        product__name="Blue Teapot",
        product__slug="blue-teapot",
        product__category=category,
        sku="TEA-1",
        name="Blue",
        price=Decimal("30.00"),
        on_hand=5,
    )
    make_variant(product=teapot.product, sku="TEA-2", name="Red", price=Decimal("32.00"), on_hand=0)
    mug = make_variant(
        product__name="Striped Mug",
        product__slug="striped-mug",
        product__category=category,
        sku="MUG-1",
        price=Decimal("8.00"),
        on_hand=10,
    )
    return {"category": category, "teapot": teapot, "mug": mug}


@pytest.fixture
def shopper():
    return UserFactory()


@pytest.fixture
def address(shopper):
    return AddressFactory(user=shopper)


@pytest.fixture
def received_order(shopper, shop):
    return order_in(OrderStatus.RECEIVED, user=shopper, items=[(shop["mug"], 1)])


@pytest.fixture
def delivered_order(shopper, shop):
    return order_in(OrderStatus.DELIVERED, user=shopper, items=[(shop["mug"], 2)])


@pytest.fixture
def signed_in(client, shopper):
    client.force_login(shopper)
    return client


@pytest.fixture
def csrf_client(shopper) -> Client:
    """A signed-in client that, like a browser, must present the CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(shopper)
    return client


# ----------------------------------------------------------------------------- pages


def page_urls(shop, address, received_order, delivered_order) -> dict[str, str]:
    """The HTML pages a signed-in shopper can open (each with the forms it shows)."""
    return {
        "home": "/",
        "category": reverse("catalog:category", args=["kitchen"]),
        "category filtered": reverse("catalog:category", args=["kitchen"])
        + "?in_stock=on&sort=price_desc&min_price=1",
        "search": reverse("catalog:search") + "?q=teapot",
        "search no results": reverse("catalog:search") + "?q=zzzz",
        "product": reverse("catalog:product", args=["blue-teapot"]),
        "cart": reverse("cart:detail"),
        "checkout": reverse("orders:checkout"),
        "account": reverse("accounts:account"),
        "address add": reverse("accounts:address_add"),
        "address edit": reverse("accounts:address_edit", args=[address.pk]),
        "address delete": reverse("accounts:address_delete", args=[address.pk]),
        "password change": reverse("accounts:password_change"),
        "orders": reverse("orders:list"),
        "order received": reverse("orders:detail", args=[received_order.number]),
        "cancel confirmation": reverse("orders:cancel", args=[received_order.number]),
        "order delivered": reverse("orders:detail", args=[delivered_order.number]),
        "confirmation": reverse("orders:confirmation", args=[received_order.number]),
        "not found": "/c/nope/",
    }


ANONYMOUS_PAGES = {
    "sign in": "accounts:login",
    "register": "accounts:register",
    "password reset": "accounts:password_reset",
    "password reset done": "accounts:password_reset_done",
    "password reset complete": "accounts:password_reset_complete",
}


@pytest.fixture
def shopper_pages(signed_in, shopper, shop, address, received_order, delivered_order):
    """Render every shopper page once (with a full cart) and return {name: response}."""
    cart_with(shopper, (shop["teapot"], 1), (shop["mug"], 2))
    pages = {}
    for name, url in page_urls(shop, address, received_order, delivered_order).items():
        pages[name] = signed_in.get(url)
    return pages


@pytest.fixture
def anonymous_pages(shop):
    client = Client()
    pages = {name: client.get(reverse(url)) for name, url in ANONYMOUS_PAGES.items()}
    client.post(reverse("cart:add"), {"sku": "MUG-1", "quantity": "1"})
    pages["cart (anonymous)"] = client.get(reverse("cart:detail"))
    pages["home (anonymous)"] = client.get("/")
    pages["bad reset link"] = client.get(
        reverse("accounts:password_reset_confirm", args=["MQ", "bad-token"])
    )
    return pages


@pytest.fixture
def staff_pages(shop):
    client = Client()
    client.force_login(StaffUserFactory())
    return {"staff dashboard": client.get(reverse("orders:staff-dashboard"))}


@pytest.fixture
def all_pages(shopper_pages, anonymous_pages, staff_pages):
    return {**shopper_pages, **anonymous_pages, **staff_pages}


def test_the_pages_render(all_pages):
    for name, response in all_pages.items():
        expected = 404 if name == "not found" else 200
        assert response.status_code == expected, name
        assert response["Content-Type"].startswith("text/html"), name


def test_every_post_form_carries_a_csrf_token(all_pages):
    post_forms = 0
    for name, response in all_pages.items():
        for form in parse(response).forms:
            if form["method"] == "post":
                post_forms += 1
                assert form["csrf"], f"{name}: <form action={form['action']!r}> has no CSRF token"
    # The pages above hold the cart, checkout, cancel, return, address and sign-out forms.
    assert post_forms >= 30


def test_the_pages_hold_the_forms_we_check(shopper_pages, delivered_order, received_order):
    def post_actions(name):
        return {f["action"] for f in parse(shopper_pages[name]).forms if f["method"] == "post"}

    assert reverse("accounts:logout") in post_actions("home")
    assert reverse("cart:add") in post_actions("product")
    assert reverse("orders:checkout") in post_actions("checkout")
    cancel = reverse("orders:cancel", args=[received_order.number])
    # The order page opens the confirmation page, whose form cancels (issue 18).
    assert cancel in post_actions("cancel confirmation")
    assert cancel not in post_actions("order received")
    assert reverse("orders:return", args=[delivered_order.number]) in post_actions(
        "order delivered"
    )
    assert any("/lines/" in action for action in post_actions("cart"))


def test_pages_send_a_same_origin_script_policy(all_pages):
    for name, response in all_pages.items():
        policy = response["Content-Security-Policy"]
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        assert directives["script-src"] == ["'self'"], name
        assert "'unsafe-eval'" not in policy, name
        assert directives.get("frame-ancestors") == ["'none'"], name


def test_pages_have_no_inline_scripts_or_event_handlers(all_pages):
    for name, response in all_pages.items():
        page = parse(response)
        assert page.inline_scripts == 0, f"{name} has an inline <script>"
        assert page.handler_attributes == [], f"{name}: {page.handler_attributes}"
        assert page.javascript_urls == [], f"{name}: {page.javascript_urls}"


def test_htmx_partials_follow_the_same_rules(signed_in, shopper, shop):
    cart_with(shopper, (shop["mug"], 1))
    line = CartLine.objects.get(cart__user=shopper)
    responses = [
        signed_in.get(reverse("cart:detail"), **HTMX),
        signed_in.get(reverse("catalog:category", args=["kitchen"]), **HTMX),
        signed_in.post(reverse("cart:add"), {"sku": "MUG-1"}, **HTMX),
        signed_in.post(reverse("cart:line-update", args=[line.pk]), {"quantity": 2}, **HTMX),
    ]
    for response in responses:
        assert response.status_code == 200
        page = parse(response)
        assert page.inline_scripts == 0
        assert page.handler_attributes == []
        assert all(f["csrf"] for f in page.forms if f["method"] == "post")


# ----------------------------------------------------------------------------- CSRF


def test_cart_add_without_csrf_is_refused(csrf_client, shopper, shop):
    response = csrf_client.post(reverse("cart:add"), {"sku": "MUG-1", "quantity": "1"})
    assert response.status_code == 403
    assert not CartLine.objects.filter(cart__user=shopper).exists()


def test_cart_add_without_csrf_is_refused_for_anonymous_shoppers(shop):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("cart:add"), {"sku": "MUG-1", "quantity": "1"})
    assert response.status_code == 403
    assert not CartLine.objects.exists()


def test_cart_line_changes_without_csrf_are_refused(csrf_client, shopper, shop):
    cart_with(shopper, (shop["mug"], 1))
    line = CartLine.objects.get(cart__user=shopper)
    update = csrf_client.post(reverse("cart:line-update", args=[line.pk]), {"quantity": "5"})
    remove = csrf_client.post(reverse("cart:line-remove", args=[line.pk]))
    assert (update.status_code, remove.status_code) == (403, 403)
    line.refresh_from_db()
    assert line.quantity == 1


def test_checkout_without_csrf_is_refused(csrf_client, shopper, shop, address):
    cart_with(shopper, (shop["mug"], 1))
    response = csrf_client.post(
        reverse("orders:checkout"),
        {
            "address": str(address.pk),
            "payment_token": "tok_success",
            "idempotency_key": "7f0c1f7e-6a55-4d4e-9d2b-8f0a6c7e9e11",
        },
    )
    assert response.status_code == 403
    assert not Order.objects.filter(user=shopper).exists()


def test_cancel_without_csrf_is_refused(csrf_client, received_order):
    response = csrf_client.post(
        reverse("orders:cancel", args=[received_order.number]), {"confirm": "yes"}
    )
    assert response.status_code == 403
    received_order.refresh_from_db()
    assert received_order.status == OrderStatus.RECEIVED


def test_return_without_csrf_is_refused(csrf_client, delivered_order):
    line = delivered_order.lines.get()
    response = csrf_client.post(
        reverse("orders:return", args=[delivered_order.number]), {f"qty-{line.pk}": "1"}
    )
    assert response.status_code == 403
    assert not ReturnRequest.objects.exists()


def test_address_add_and_delete_without_csrf_are_refused(csrf_client, address):
    add = csrf_client.post(
        reverse("accounts:address_add"),
        {
            "new-full_name": "Eve",
            "new-line1": "1 Road",
            "new-city": "Paris",
            "new-postal_code": "75001",
            "new-country": "FR",
        },
    )
    delete = csrf_client.post(reverse("accounts:address_delete", args=[address.pk]))
    assert (add.status_code, delete.status_code) == (403, 403)
    assert list(Address.objects.values_list("pk", flat=True)) == [address.pk]


def test_logout_without_csrf_is_refused(csrf_client, shopper):
    response = csrf_client.post(reverse("accounts:logout"))
    assert response.status_code == 403
    assert csrf_client.get(reverse("accounts:account")).status_code == 200  # still signed in


def test_logout_by_get_is_not_allowed(signed_in):
    assert signed_in.get(reverse("accounts:logout")).status_code == 405
    assert signed_in.get(reverse("accounts:account")).status_code == 200


def test_a_post_with_the_token_from_the_page_is_accepted(csrf_client, shopper, shop):
    """The other side of the checks above: the token the page carries does work."""
    page = csrf_client.get(reverse("catalog:product", args=["striped-mug"]))
    token = csrf_client.cookies["csrftoken"].value
    assert page.status_code == 200
    response = csrf_client.post(reverse("cart:add"), {"sku": "MUG-1", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert CartLine.objects.filter(cart__user=shopper).exists()


def test_the_csrf_failure_page_is_friendly(csrf_client):
    response = csrf_client.post(reverse("accounts:logout"))
    assert response.status_code == 403
    assert "Traceback" not in response.content.decode()


# ----------------------------------------------------------------------------- ownership


@pytest.fixture
def intruder(client):
    other = UserFactory()
    client.force_login(other)
    return client


def test_another_shoppers_order_is_not_found(intruder, received_order, delivered_order):
    urls = [
        reverse("orders:detail", args=[received_order.number]),
        reverse("orders:confirmation", args=[received_order.number]),
    ]
    for url in urls:
        assert intruder.get(url).status_code == 404, url


def test_another_shoppers_order_cannot_be_cancelled(intruder, received_order):
    response = intruder.post(
        reverse("orders:cancel", args=[received_order.number]), {"confirm": "yes"}
    )
    assert response.status_code == 404
    received_order.refresh_from_db()
    assert received_order.status == OrderStatus.RECEIVED


def test_another_shoppers_order_cannot_be_returned(intruder, delivered_order):
    line = delivered_order.lines.get()
    response = intruder.post(
        reverse("orders:return", args=[delivered_order.number]), {f"qty-{line.pk}": "1"}
    )
    assert response.status_code == 404
    assert not ReturnRequest.objects.exists()


def test_another_shoppers_address_cannot_be_edited_or_deleted(intruder, address):
    edit_url = reverse("accounts:address_edit", args=[address.pk])
    delete_url = reverse("accounts:address_delete", args=[address.pk])
    assert intruder.get(edit_url).status_code == 404
    assert intruder.get(delete_url).status_code == 404
    edited = intruder.post(
        edit_url,
        {
            "full_name": "Mallory",
            "line1": "2 Road",
            "city": "Rome",
            "postal_code": "00100",
            "country": "IT",
        },
    )
    deleted = intruder.post(delete_url)
    deleted_htmx = intruder.post(delete_url, **HTMX)
    assert (edited.status_code, deleted.status_code, deleted_htmx.status_code) == (404, 404, 404)
    address.refresh_from_db()
    assert address.full_name != "Mallory"


def test_another_shoppers_address_cannot_be_used_at_checkout(intruder, address, shop):
    intruder.post(reverse("cart:add"), {"sku": "MUG-1"})
    response = intruder.post(
        reverse("orders:checkout"),
        {
            "address": str(address.pk),
            "payment_token": "tok_success",
            "idempotency_key": "0b6f5d5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        },
    )
    assert response.status_code == 200  # the form again, with the error next to the choice
    assert not Order.objects.exists()
    assert address.line1 not in response.content.decode()


def test_another_shoppers_cart_line_cannot_be_changed(intruder, shopper, shop):
    cart_with(shopper, (shop["mug"], 1))
    line = CartLine.objects.get(cart__user=shopper)
    intruder.post(reverse("cart:line-update", args=[line.pk]), {"quantity": "9"})
    intruder.post(reverse("cart:line-remove", args=[line.pk]))
    line.refresh_from_db()
    assert line.quantity == 1


def test_order_pages_need_a_signed_in_shopper(client, received_order):
    for url in [
        reverse("orders:list"),
        reverse("orders:detail", args=[received_order.number]),
        # /checkout/ is open to guests (issue 13): it offers guest checkout, sign in, register.
        reverse("accounts:account"),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_staff_dashboard_refuses_customers(signed_in, client):
    response = signed_in.get(reverse("orders:staff-dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "Shop dashboard" not in response.content.decode()


def test_staff_dashboard_refuses_anonymous_visitors():
    response = Client().get(reverse("orders:staff-dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_dashboard_opens_for_staff(staff_pages):
    assert staff_pages["staff dashboard"].status_code == 200


# ----------------------------------------------------------------------------- bad input


def assert_friendly(response, status: int):
    body = response.content.decode()
    assert response.status_code == status
    assert "Traceback" not in body
    assert 'class="site-header"' in body, "the error page keeps the shop layout"


@pytest.mark.parametrize(
    "url",
    ["/c/nope/", "/p/nope/", "/no-such-page/", "/orders/NOPE-1/", "/checkout/done/NOPE-1/"],
)
def test_not_found_pages_are_friendly(signed_in, url):
    response = signed_in.get(url)
    assert_friendly(response, 404)
    assert "find that page" in response.content.decode()


def test_not_found_page_for_anonymous_visitors(client):
    response = client.get("/c/nope/")
    assert_friendly(response, 404)
    assert reverse("accounts:login") in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sku": "NOPE-999", "quantity": "1"}, "not"),
        ({"sku": "", "quantity": "1"}, ""),
        ({"sku": "MUG-1", "quantity": "abc"}, "quantity"),
        ({"sku": "MUG-1", "quantity": "-1"}, "quantity"),
        ({"sku": "MUG-1", "quantity": "0"}, "quantity"),
        ({"sku": "MUG-1", "quantity": "1000"}, ""),
        ({"sku": "MUG-1", "quantity": "9" * 5000}, "quantity"),
        ({"sku": "MUG-1", "quantity": "1.5"}, "quantity"),
        ({"sku": "TEA-2", "quantity": "1"}, "out of stock"),
        ({"sku": "MUG-1", "quantity": "11"}, "only 10"),
        ({"sku": "x" * 5000, "quantity": "1"}, "not"),
    ],
)
def test_cart_add_with_bad_input_gives_a_friendly_message(client, shop, data, message):
    page = reverse("catalog:product", args=["striped-mug"])
    response = client.post(reverse("cart:add"), {**data, "next": page})
    assert response.status_code == 302
    assert response["Location"] == page
    shown = client.get(page)
    text = shown.content.decode()
    assert 'class="alert alert-error"' in text
    assert message.lower() in text.lower()
    assert not CartLine.objects.exists()

    fragment = client.post(reverse("cart:add"), data, **HTMX)
    assert fragment.status_code == 200
    assert 'data-testid="add-error"' in fragment.content.decode()
    assert "HX-Trigger" not in fragment
    assert not CartLine.objects.exists()


def test_cart_add_never_redirects_off_site(client, shop):
    response = client.post(
        reverse("cart:add"), {"sku": "MUG-1", "next": "https://evil.example.com/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")


@pytest.mark.parametrize("quantity", ["abc", "", "-5", "1000", "9" * 5000])
def test_cart_line_update_with_bad_quantity_is_friendly(signed_in, shopper, shop, quantity):
    cart_with(shopper, (shop["mug"], 2))
    line = CartLine.objects.get(cart__user=shopper)
    response = signed_in.post(reverse("cart:line-update", args=[line.pk]), {"quantity": quantity})
    assert response.status_code == 302
    page = signed_in.get(reverse("cart:detail"))
    assert "alert-error" in page.content.decode()
    fragment = signed_in.post(
        reverse("cart:line-update", args=[line.pk]), {"quantity": quantity}, **HTMX
    )
    assert fragment.status_code == 200
    assert 'data-testid="cart-error"' in fragment.content.decode()
    line.refresh_from_db()
    assert line.quantity == 2


def test_cart_line_of_unknown_id_is_friendly(signed_in, shopper, shop):
    cart_with(shopper, (shop["mug"], 1))
    response = signed_in.post(reverse("cart:line-update", args=[999999]), {"quantity": "1"})
    assert response.status_code == 302
    fragment = signed_in.post(reverse("cart:line-remove", args=[999999]), **HTMX)
    assert fragment.status_code == 200
    assert 'data-testid="cart-error"' in fragment.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"address": "abc", "payment_token": "tok_success"},
        {"address": "999999", "payment_token": "tok_success"},
        {"address": "-1", "payment_token": "tok_success"},
        {"address": "new", "payment_token": "tok_success", "country": "ZZ"},
        {"address": "new", "payment_token": "tok_success", "full_name": "x" * 5000},
        {"payment_token": "bogus"},
        {"payment_token": ""},
        {"payment_token": "x" * 5000, "notes": "n" * 50000},
    ],
)
def test_checkout_with_bad_input_is_friendly(signed_in, shopper, shop, address, data):
    cart_with(shopper, (shop["mug"], 1))
    response = signed_in.post(
        reverse("orders:checkout"),
        {"address": str(address.pk), "idempotency_key": "3c1b8c1e-7e0e-4d5e-a4a3-9b1f2e3d4c5b"}
        | data,
    )
    assert response.status_code in (200, 400)
    assert_friendly(response, response.status_code)
    assert 'data-testid="checkout-form"' in response.content.decode()
    assert not Order.objects.exists()


def test_checkout_with_a_missing_or_bad_idempotency_key_is_friendly(signed_in, shopper, shop):
    cart_with(shopper, (shop["mug"], 1))
    for key in ["", "not-a-uuid", "k" * 500]:
        response = signed_in.post(
            reverse("orders:checkout"),
            {"address": "new", "payment_token": "tok_success", "idempotency_key": key},
        )
        assert response.status_code in (200, 302, 400), key
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", ["abc", "-1", "99", "1.5", "9" * 5000])
def test_return_with_bad_quantity_is_friendly(signed_in, delivered_order, quantity):
    line = delivered_order.lines.get()
    response = signed_in.post(
        reverse("orders:return", args=[delivered_order.number]),
        {f"qty-{line.pk}": quantity, "reason": "r" * 5000},
    )
    assert_friendly(response, 400)
    assert not ReturnRequest.objects.exists()


def test_return_of_an_order_not_yet_delivered_is_friendly(signed_in, received_order):
    line = received_order.lines.get()
    response = signed_in.post(
        reverse("orders:return", args=[received_order.number]), {f"qty-{line.pk}": "1"}
    )
    assert_friendly(response, 400)
    assert not ReturnRequest.objects.exists()


def test_cancelling_twice_is_friendly(signed_in, received_order):
    url = reverse("orders:cancel", args=[received_order.number])
    assert signed_in.post(url, {"confirm": "yes"}).status_code == 302
    again = signed_in.post(url, {"confirm": "yes"}, follow=True)
    assert again.status_code == 200
    assert "alert-error" in again.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=-1",
        "?page=99999",
        "?min_price=abc&max_price=-5",
        "?min_price=10&max_price=1",
        "?sort=drop_table",
        "?in_stock=maybe",
        "?min_price=" + "9" * 500,
    ],
)
def test_listing_with_bad_parameters_is_friendly(client, shop, query):
    for base in [reverse("catalog:category", args=["kitchen"]), reverse("catalog:search")]:
        response = client.get(base + query)
        assert_friendly(response, 200)


def test_search_with_oversized_query_is_friendly(client, shop):
    response = client.get(reverse("catalog:search"), {"q": "teapot" * 1000})
    assert_friendly(response, 200)


def test_product_with_unknown_variant_is_friendly(client, shop):
    response = client.get(reverse("catalog:product", args=["blue-teapot"]) + "?sku=NOPE")
    assert_friendly(response, 200)


@pytest.mark.parametrize(
    "data",
    [
        {"email": "x" * 5000 + "@example.com", "password": "p"},
        {"email": "not-an-email", "password": "p" * 5000},
        {},
    ],
)
def test_sign_in_with_bad_input_is_friendly(client, data):
    response = client.post(reverse("accounts:login"), data)
    assert_friendly(response, 200)
    assert "field-error" in response.content.decode() or "alert-error" in (
        response.content.decode()
    )


def test_register_with_oversized_input_is_friendly(client):
    response = client.post(
        reverse("accounts:register"),
        {
            "email": "a" * 300 + "@example.com",
            "first_name": "f" * 5000,
            "new_password1": "p" * 5000,
            "new_password2": "q",
        },
    )
    assert_friendly(response, 200)


def test_address_with_bad_input_is_friendly(signed_in):
    response = signed_in.post(
        reverse("accounts:address_add"),
        {"new-full_name": "n" * 5000, "new-country": "ZZ", "new-is_default": "maybe"},
    )
    assert_friendly(response, 200)
    assert not Address.objects.exists()


def test_address_of_unknown_id_is_not_found(signed_in):
    assert_friendly(signed_in.get(reverse("accounts:address_edit", args=[999999])), 404)


def test_password_reset_confirm_with_garbage_is_friendly(client):
    for uid, token in [("MQ", "bad"), ("!!!", "x" * 300), ("zzzz", "set-password")]:
        response = client.get(reverse("accounts:password_reset_confirm", args=[uid, token]))
        assert_friendly(response, 200)
