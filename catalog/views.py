"""Storefront HTML pages: landing, category, search and product.

Listing pages answer an HTMX request (filters, sort, pagination) with just the
``product-grid`` partial of ``catalog/listing.html``; any other request gets the full page.
All reads go through ``catalog.selectors`` so the API and the pages agree.
"""

from decimal import Decimal
from functools import partial
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from catalog import alerts as stock_alerts
from catalog import reviews, seo, wishlist
from catalog.cache import CachedListingPaginator, cached
from catalog.facets import Facets, attribute_filters, listing_facets
from catalog.models import Category, Product, Review, ReviewStatus, StockAlert, Variant
from catalog.search import suggestions
from catalog.selectors import (
    OUT_OF_STOCK,
    image_url,
    product_detail,
    product_listing,
    stock_hint,
)
from catalog.templatetags.catalog_tags import root_categories
from shop.errors import DomainError

PAGE_SIZE = 24
FEATURED_COUNT = 8
SEARCH_MAX_LENGTH = 100
SORT_CHOICES = [
    ("", "Name: A to Z"),
    ("price", "Price: low to high"),
    ("-price", "Price: high to low"),
    ("newest", "Newest first"),
    ("-rating", "Top rated"),
    ("-popularity", "Best selling"),
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
        {
            "categories": root_categories(request),
            "featured": featured,
            "canonical_url": request.build_absolute_uri("/"),
        },
    )


def _facet_links(facets: Facets, attributes: dict[str, list[str]]) -> list[dict]:
    """Return the attribute facets as checkbox groups, the chosen values checked."""
    return [
        {
            "name": name,
            "param": f"attr_{name}",
            "label": name.replace("_", " ").capitalize(),
            "values": [
                {**item, "checked": item["value"] in attributes.get(name, ())} for item in values
            ],
        }
        for name, values in sorted(facets["attributes"].items())
    ]


def _listing(
    request: HttpRequest,
    *,
    category: Category | None,
    extra: dict,
    within: Category | None = None,
) -> HttpResponse:
    form = ListingFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    attributes, attribute_errors = attribute_filters(request.GET)
    filters = {
        "category": category or within,
        "search": data.get("q", ""),
        "min_price": data.get("min_price"),
        "max_price": data.get("max_price"),
        "in_stock": True if data.get("in_stock") else None,
        "attributes": attributes,
        "ordering": data.get("sort") or "",
    }
    # The count, each page's rows and the facets are cached per catalog version
    # (catalog.cache); the rows are the same annotated Product objects the queryset gives.
    key = tuple(
        (name, getattr(value, "pk", value if not isinstance(value, dict) else repr(value)))
        for name, value in filters.items()
    )
    build = partial(product_listing, **filters)
    paginator = CachedListingPaginator(build, PAGE_SIZE, key=("listing", key))
    fragment = _wants_fragment(request)
    # The filters (and their facets) are outside the grid an HTMX swap replaces.
    facets: Facets = (
        {"categories": [], "attributes": {}, "price": {"min": None, "max": None}}
        if fragment
        else cached("facets", key, lambda: listing_facets(listing=paginator.listing))
    )
    if not fragment:
        # Every listed product is in one category: the facet counts add up to the total,
        # which spares the COUNT (a second pass over a search's matches).
        paginator.count = sum(item["count"] for item in facets["categories"])
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "category": category,
        "form": form,
        "facets": facets,
        "attribute_facets": _facet_links(facets, attributes),
        "filter_problems": form.problems()
        + [f"We ignored {name}: {' '.join(errors)}" for name, errors in attribute_errors.items()],
        "page": page,
        "page_numbers": _page_numbers(page),
        "products": page.object_list,
        # Identifies the page's product cards (catalog_fragment): filters and page number.
        "grid_key": repr((key, page.number)),
        # Identifies the filter sidebar (catalog_fragment): the filters as typed (the fields
        # show them) and the facets they select; not the page.
        "filters_key": repr(sorted((k, v) for k, v in request.GET.lists() if k != "page")),
        "sort_choices": SORT_CHOICES,
        "query": data.get("q", ""),
        "has_filters": bool(attributes)
        or any(
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
    if category is not None:
        # Filters and sorting never make a canonical of their own; page N is its own page.
        canonical = reverse("catalog:category", args=[category.slug])
        if page.number > 1:
            canonical += f"?page={page.number}"
        context["canonical_url"] = request.build_absolute_uri(canonical)
        context["noindex"] = bool(context["has_filters"] or data.get("sort"))
    else:
        context["noindex"] = True  # search results: endless combinations of the catalogue
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
    """Render products matching ``?q=`` (ranked, typo-tolerant; ``catalog.search``), or all.

    ``?category=<slug>`` (the category facet) narrows them to a category and its subtree; an
    unknown slug is ignored.
    """
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    title = f"Results for “{query}”" if query else "All products"
    slug = request.GET.get("category", "")[:140]
    category = Category.objects.filter(slug=slug).first() if slug else None
    return _listing(
        request,
        category=None,
        extra={
            "title": title,
            "base_url": reverse("catalog:search"),
            "within": category,
        },
        within=category,
    )


def search_suggestions(request: HttpRequest) -> HttpResponse:
    """Render the header's suggestions for ``?q=`` (HTMX): up to 8 product links, cached."""
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    items = cached("suggest", query.lower(), partial(suggestions, text=query))
    return render(request, "catalog/suggestions.html", {"suggestions": items})


def _product_and_ancestors(slug: str, cart_token: UUID | None = None) -> tuple[Product, list]:
    product = product_detail(slug=slug, cart_token=cart_token)
    return product, list(product.category.ancestors())


class ReviewForm(forms.Form):
    """The product page's review form; the rules are ``catalog.reviews``'."""

    rating = forms.TypedChoiceField(choices=[(n, n) for n in range(1, 6)], coerce=int)
    title = forms.CharField(required=False, max_length=reviews.TITLE_MAX_LENGTH)
    body = forms.CharField(min_length=reviews.BODY_MIN_LENGTH, max_length=reviews.BODY_MAX_LENGTH)


REVIEWS_SHOWN = 10
WISHLIST_PAGE_SIZE = 200


def _product_reviews(product: Product) -> list[dict]:
    return [
        {
            "rating": review.rating,
            "title": review.title,
            "body": review.body,
            "author": reviews.author_name(review=review),
            "verified_buyer": review.verified_buyer,
            "created_at": review.created_at,
        }
        for review in reviews.published_reviews(product=product)[:REVIEWS_SHOWN]
    ]


@require_POST
def review_product(request: HttpRequest, slug: str) -> HttpResponse:
    """Submit the signed-in shopper's review (``catalog.reviews.submit_review``).

    Redirects to the product's reviews with a message; an invalid form shows the page again
    with its errors.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("catalog:product", args=[slug]) + "#reviews")
    product = get_object_or_404(Product.objects.purchasable(), slug=slug)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            review = reviews.submit_review(
                user=request.user,  # type: ignore[arg-type]
                product=product,
                **form.cleaned_data,
            )
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(
                request,
                "Thank you! Your review will appear once it has been checked."
                if review.status == ReviewStatus.PENDING
                else "Thank you! Your review is published.",
            )
        return redirect(reverse("catalog:product", args=[slug]) + "#reviews")
    return product_page(request, slug, review_form=form)


def product_page(
    request: HttpRequest, slug: str, review_form: ReviewForm | None = None
) -> HttpResponse:
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
    images = list(product.images.all())
    first_image = image_url(name=images[0].image.name) if images else None
    og_image = request.build_absolute_uri(first_image) if first_image else None
    return render(
        request,
        "catalog/product.html",
        {
            "product": product,
            # Stock hints the same for every viewer (no cart holding stock): shareable.
            "shared_stock": cart_token is None,
            "images": images,
            "variants": variants,
            "selected": selected,
            "sold_out": not buyable,
            "sold_out_variants": [v for v in variants if not v.can_buy],
            "attributes": _attribute_rows(product.attributes),
            "ancestors": [*ancestors, category],
            "current_root_id": (category.ancestor_ids() or [category.pk])[0],
            "add_url": _add_to_cart_url(),
            "reviews": cached("product-reviews", slug, partial(_product_reviews, product)),
            "own_review": (
                Review.objects.filter(product=product, user=request.user).first()
                if request.user.is_authenticated
                else None
            ),
            # Only signed-in shoppers get the form.
            "review_form": review_form or (ReviewForm() if request.user.is_authenticated else None),
            "canonical_url": request.build_absolute_uri(reverse("catalog:product", args=[slug])),
            "og_image": og_image,
            "json_ld": seo.json_ld(
                seo.product_json_ld(
                    request=request, product=product, variants=variants, images=images
                )
            ),
        },
        status=400 if review_form is not None else 200,
    )


@login_required
def wishlist_page(request: HttpRequest) -> HttpResponse:
    """Render the signed-in shopper's wishlist (products still for sale), newest first."""
    products = list(wishlist.wishlist_products(user=request.user)[:WISHLIST_PAGE_SIZE])  # type: ignore[arg-type]
    return render(request, "catalog/wishlist.html", {"products": products})


@require_POST
def wishlist_toggle(request: HttpRequest, slug: str) -> HttpResponse:
    """Save or unsave a product (the heart). HTMX gets the button back; a plain form post is
    redirected to ``next`` (a local URL) or the product page. Signed out: to sign in.
    """
    product = get_object_or_404(Product.objects.purchasable(), slug=slug)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("catalog:product", args=[slug]))
    saved = wishlist.toggle_wishlist(user=request.user, product=product)  # type: ignore[arg-type]
    if _wants_fragment(request):
        return render(
            request, "catalog/includes/wishlist_button.html", {"product": product, "saved": saved}
        )
    messages.success(
        request,
        f"Saved {product.name} to your wishlist."
        if saved
        else f"Removed {product.name} from your wishlist.",
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("catalog:product", args=[slug])
    return redirect(target)


class StockAlertForm(forms.Form):
    sku = forms.CharField(max_length=64)
    email = forms.EmailField(max_length=254)


@require_POST
def stock_alert_subscribe(request: HttpRequest) -> HttpResponse:
    """ "Email me when it is back" (``catalog.alerts.subscribe``), guest or signed in.

    Redirects to the product page with a message (HTMX: the message fragment only).
    """
    data = request.POST.copy()
    if request.user.is_authenticated and not data.get("email"):
        data["email"] = request.user.email
    form = StockAlertForm(data)
    variant = None
    if form.is_valid():
        variant = (
            Variant.objects.purchasable()
            .select_related("product")
            .filter(sku__iexact=form.cleaned_data["sku"])
            .first()
        )
    if variant is None:
        text = "Enter a valid email address to be told when it is back."
        if _wants_fragment(request):
            return render(
                request, "catalog/includes/alert_result.html", {"text": text, "ok": False}
            )
        messages.error(request, text)
        return redirect(reverse("catalog:search"))
    try:
        stock_alerts.subscribe(
            variant=variant,
            email=form.cleaned_data["email"],
            user=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
        )
    except DomainError as exc:
        text, ok = exc.detail, False
    else:
        text, ok = f"We will email {form.cleaned_data['email']} when it is back in stock.", True
    if _wants_fragment(request):
        return render(request, "catalog/includes/alert_result.html", {"text": text, "ok": ok})
    (messages.success if ok else messages.error)(request, text)
    url = reverse("catalog:product", args=[variant.product.slug])
    return redirect(f"{url}?sku={variant.sku}")


def stock_alert_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One-click unsubscribe from a back-in-stock alert: GET confirms, POST stops it.

    POST also serves mail clients' one-click unsubscribe (RFC 8058). Unknown token: 404.
    """
    if request.method == "POST":
        alert = stock_alerts.unsubscribe(token=token[:64])
        done = True
    else:
        alert = (
            StockAlert.objects.select_related("variant__product").filter(token=token[:64]).first()
        )
        done = False
    if alert is None:
        raise Http404("No such alert.")
    return render(request, "catalog/alert_unsubscribe.html", {"alert": alert, "done": done})
