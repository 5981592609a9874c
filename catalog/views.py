"""Storefront HTML pages: landing, category, search and product.

Listing pages answer an HTMX request (filters, sort, pagination) with just the
``product-grid`` partial of ``catalog/listing.html``; any other request gets the full page.
All reads go through ``catalog.selectors`` so the API and the pages agree.
"""

from decimal import Decimal
from functools import partial
from uuid import UUID

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers

from catalog.cache import CachedListingPaginator, cached
from catalog.models import Category, Product
from catalog.selectors import OUT_OF_STOCK, product_detail, product_listing, stock_hint
from catalog.templatetags.catalog_tags import root_categories

PAGE_SIZE = 24
FEATURED_COUNT = 8
SEARCH_MAX_LENGTH = 100
SORT_CHOICES = [
    ("", "Name: A to Z"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("newest", "Newest first"),
]
FIELD_LABELS = {
    "q": "search",
    "min_price": "minimum price",
    "max_price": "maximum price",
    "in_stock": "in-stock filter",
    "sort": "sort order",
}


class ListingFilterForm(forms.Form):
    """The GET parameters of a product listing; invalid ones are reported and ignored."""

    q = forms.CharField(required=False)
    min_price = forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=12, decimal_places=2
    )
    max_price = forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=12, decimal_places=2
    )
    in_stock = forms.BooleanField(required=False)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)

    def clean_q(self) -> str:
        return self.cleaned_data["q"][:SEARCH_MAX_LENGTH]

    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The maximum price is below the minimum price.")
        return data

    def problems(self) -> list[str]:
        """Return one friendly sentence per invalid parameter."""
        return [
            f"We ignored the {FIELD_LABELS.get(name, name)}: {' '.join(errors)}"
            for name, errors in self.errors.items()
        ]


def _wants_fragment(request: HttpRequest) -> bool:
    """Return True for HTMX swaps of the grid (not boosted links or history restores)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _add_to_cart_url() -> str:
    # The cart pages own this endpoint; fall back to its documented path until it exists.
    try:
        return reverse("cart:add")
    except NoReverseMatch:
        return "/cart/add/"


def _page_numbers(page) -> list[int | None]:
    """Return the page links to show: first, last and two around the current (None = gap)."""
    last, current = page.paginator.num_pages, page.number
    wanted = {1, last, *range(current - 2, current + 3)}
    numbers: list[int | None] = []
    for n in sorted(x for x in wanted if 1 <= x <= last):
        if numbers and n - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def _attribute_rows(attributes) -> list[tuple[str, str]]:
    """Return the product's attributes as (label, text) rows for the details table."""
    if not isinstance(attributes, dict):
        return []
    rows = []
    for key, value in sorted(attributes.items()):
        if isinstance(value, bool):
            text = "Yes" if value else "No"
        elif isinstance(value, list | tuple):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items())
        else:
            text = str(value)
        rows.append((str(key).replace("_", " ").capitalize(), text))
    return rows


def home(request: HttpRequest) -> HttpResponse:
    """Render the landing page: hero, top-level categories, newest products in stock."""
    featured = cached(
        "home-featured",
        FEATURED_COUNT,
        lambda: list(product_listing(in_stock=True, ordering="newest")[:FEATURED_COUNT]),
    )
    return render(
        request,
        "catalog/home.html",
        {"categories": root_categories(request), "featured": featured},
    )


def _listing(request: HttpRequest, *, category: Category | None, extra: dict) -> HttpResponse:
    form = ListingFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    filters = {
        "category": category,
        "search": data.get("q", ""),
        "min_price": data.get("min_price"),
        "max_price": data.get("max_price"),
        "in_stock": True if data.get("in_stock") else None,
        "ordering": data.get("sort") or "",
    }
    # The count and each page's rows are cached per catalog version (catalog.cache); the
    # rows are the same annotated Product objects the queryset gives.
    key = tuple((name, getattr(value, "pk", value)) for name, value in filters.items())
    paginator = CachedListingPaginator(
        partial(product_listing, **filters), PAGE_SIZE, key=("listing", key)
    )
    page = paginator.get_page(request.GET.get("page"))
    fragment = _wants_fragment(request)
    context = {
        "category": category,
        "form": form,
        "filter_problems": form.problems(),
        "page": page,
        "page_numbers": _page_numbers(page),
        "products": page.object_list,
        # Identifies the page's product cards (catalog_fragment): filters and page number.
        "grid_key": repr((key, page.number)),
        "sort_choices": SORT_CHOICES,
        "query": data.get("q", ""),
        "has_filters": any(
            data.get(name) not in (None, "", False)
            for name in ("min_price", "max_price", "in_stock")
        ),
        **extra,
    }
    if not fragment and category is not None:
        context["ancestors"], context["subcategories"] = cached(
            "category-nav", category.pk, partial(_category_nav, category)
        )
        context["current_root_id"] = (category.ancestor_ids() or [category.pk])[0]
    template = "catalog/listing.html#product-grid" if fragment else "catalog/listing.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _category_nav(category: Category) -> tuple[list[Category], list[Category]]:
    """A category's breadcrumb (ancestors, root first) and its subcategories in menu order."""
    return list(category.ancestors()), list(category.children.order_by("position", "name"))


def category_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Render a category's products (its subcategories included), filtered and sorted.

    The category, its breadcrumb and subcategories are cached per catalog version
    (``catalog.cache``), like the listing's rows and count.
    """
    try:
        # A miss raises and is not cached: unknown slugs never fill the cache.
        category = cached("category", slug, partial(Category.objects.get, slug=slug))
    except Category.DoesNotExist:
        raise Http404("No such category.") from None
    return _listing(
        request,
        category=category,
        extra={"title": category.name, "base_url": reverse("catalog:category", args=[slug])},
    )


def search(request: HttpRequest) -> HttpResponse:
    """Render products matching ``?q=`` (name, description, SKU); every product without it."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    title = f"Results for “{query}”" if query else "All products"
    return _listing(
        request, category=None, extra={"title": title, "base_url": reverse("catalog:search")}
    )


def _product_and_ancestors(slug: str, cart_token: UUID | None = None) -> tuple[Product, list]:
    product = product_detail(slug=slug, cart_token=cart_token)
    return product, list(product.category.ancestors())


def product_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Render a product: images, description, attributes and the add-to-cart form.

    For a viewer without a cart the product (variants, stock, images) is cached per catalog
    version (``catalog.cache``).
    """
    # The viewer's cart, so their own stock holds count as theirs (``cart.middleware``).
    # Set by cart.middleware.CartTokenMiddleware (the catalogue does not import cart).
    cart_token: UUID | None = request.viewer_cart_token()  # type: ignore[attr-defined]
    try:
        if cart_token is None:
            product, ancestors = cached("product-page", slug, partial(_product_and_ancestors, slug))
        else:
            # The viewer's own holds count as available to them: not shareable.
            product, ancestors = _product_and_ancestors(slug, cart_token)
    except Product.DoesNotExist:
        raise Http404("No such product.") from None
    variants = list(product.variants.all())
    for variant in variants:
        variant.hint = stock_hint(
            available=variant.available, threshold=variant.low_stock_threshold
        )
        variant.can_buy = variant.hint != OUT_OF_STOCK
    wanted_sku = request.GET.get("sku", "").lower()
    buyable = [v for v in variants if v.can_buy]
    selected = next((v for v in buyable if v.sku.lower() == wanted_sku), None)
    selected = selected or (buyable[0] if buyable else (variants[0] if variants else None))
    category = product.category
    return render(
        request,
        "catalog/product.html",
        {
            "product": product,
            "images": list(product.images.all()),
            "variants": variants,
            "selected": selected,
            "sold_out": not buyable,
            "attributes": _attribute_rows(product.attributes),
            "ancestors": [*ancestors, category],
            "current_root_id": (category.ancestor_ids() or [category.pk])[0],
            "add_url": _add_to_cart_url(),
        },
    )
