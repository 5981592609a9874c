"""``request.viewer_cart_token()`` (cart.middleware): the viewer's cart token, read lazily."""

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.tests.factories import UserFactory
from cart.middleware import CartTokenMiddleware
from cart.models import CartStatus
from cart.tests.factories import CartFactory

pytestmark = pytest.mark.django_db


def through_middleware(*, user=None, cookie: str | None = None, read: bool = True):
    """Run a request through the middleware; return (request, token read in the view)."""
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    if cookie is not None:
        request.COOKIES["cart_token"] = cookie
    seen = {}

    def view(req):
        if read:
            seen["token"] = req.viewer_cart_token()
        return HttpResponse()

    CartTokenMiddleware(view)(request)
    return request, seen.get("token")


def test_anonymous_viewer_gets_the_cookie_token_without_a_query(django_assert_num_queries):
    token = uuid.uuid4()
    with django_assert_num_queries(0):
        _, seen = through_middleware(cookie=str(token))
    assert seen == token


@pytest.mark.parametrize("cookie", [None, "", "not-a-uuid"])
def test_anonymous_viewer_without_a_valid_cookie_has_none(cookie):
    assert through_middleware(cookie=cookie)[1] is None


def test_member_gets_their_open_cart_token_in_one_query_once(django_assert_num_queries):
    user = UserFactory()
    CartFactory(user=user, status=CartStatus.ORDERED)
    cart = CartFactory(user=user)
    request, _ = through_middleware(user=user, read=False)
    with django_assert_num_queries(1):
        assert request.viewer_cart_token() == cart.token
        assert request.viewer_cart_token() == cart.token  # memoized


def test_members_own_cart_wins_over_the_cookie():
    user = UserFactory()
    cart = CartFactory(user=user)
    assert through_middleware(user=user, cookie=str(uuid.uuid4()))[1] == cart.token


def test_member_without_an_open_cart_has_none():
    user = UserFactory()
    CartFactory(user=user, status=CartStatus.MERGED)
    assert through_middleware(user=user)[1] is None


def test_no_query_runs_unless_the_token_is_read(django_assert_num_queries):
    user = UserFactory()
    CartFactory(user=user)
    with django_assert_num_queries(0):
        through_middleware(user=user, read=False)


def test_pages_get_the_token_from_the_installed_middleware(client):
    user = UserFactory()
    cart = CartFactory(user=user)
    client.force_login(user)
    response = client.get("/")
    assert response.wsgi_request.viewer_cart_token() == cart.token
