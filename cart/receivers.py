"""The cart listens to sign-ins to merge the browser's guest cart into the user's cart."""

from cart.services import merge_cart_on_login

CART_COOKIE = "cart_token"


def merge_cart_after_login(sender, request, user, **kwargs) -> None:
    """Merge the ``cart_token`` cookie's cart into the signed-in user's cart."""
    if request is None:
        return
    merge_cart_on_login(user=user, token=request.COOKIES.get(CART_COOKIE))
