"""Facets of a product listing: categories, variant attributes and the price range, with counts.

``listing_facets`` takes the filtered listing (``catalog.selectors.product_listing``) and
answers in two queries whatever the size of the catalogue: one GROUP BY per category (with
its MIN/MAX ``price_from``, for the price range) and one over the active variants'
attributes (``jsonb_each_text`` on PostgreSQL, ``json_each`` on SQLite). Counts are products, not variants.
"""

import re
from typing import Any, TypedDict

from django.db import connection
from django.db.models import Count, Max, Min, QuerySet

from catalog.models import Product

#: ``attr_<name>`` query parameters: the name as variants store it (letters, digits, _ and -).
ATTRIBUTE_PARAM = re.compile(r"^attr_([\w-]{1,100})$")
MAX_VALUE_LENGTH = 200
MAX_ATTRIBUTE_VALUES = 30


class CategoryFacet(TypedDict):
    slug: str
    name: str
    count: int


class ValueFacet(TypedDict):
    value: str
    count: int


class PriceFacet(TypedDict):
    min: str | None
    max: str | None


class Facets(TypedDict):
    categories: list[CategoryFacet]
    attributes: dict[str, list[ValueFacet]]
    price: PriceFacet


def attribute_filters(params: Any) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Return ``({name: [values]}, errors)`` from ``attr_<name>=<value>`` query parameters.

    ``params`` is a QueryDict (several values of one name mean any of them). Errors are keyed
    by parameter name, for a ``400 validation_error`` or a page notice.
    """
    wanted: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for key in sorted(params.keys()):
        if not key.startswith("attr_"):
            continue
        match = ATTRIBUTE_PARAM.match(key)
        if match is None:
            errors[key] = ["Attribute names are letters, digits, '_' or '-' (100 at most)."]
            continue
        values = [v.strip() for v in params.getlist(key) if v.strip()]
        if any(len(v) > MAX_VALUE_LENGTH for v in values):
            errors[key] = [f"Values are at most {MAX_VALUE_LENGTH} characters."]
        elif values:
            wanted[match.group(1)] = sorted(set(values))
    return wanted, errors


# The listed product ids first (materialized): joining them to the variants keeps PostgreSQL
# from re-checking the listing's filters once per variant.
_ATTRIBUTE_SQL = {
    "postgresql": (
        "WITH listed (id) AS MATERIALIZED ({products}) "
        "SELECT a.key, a.value, COUNT(DISTINCT v.product_id) FROM listed "
        "JOIN catalog_variant v ON v.product_id = listed.id "
        "CROSS JOIN LATERAL jsonb_each_text(v.attributes) AS a(key, value) "
        "WHERE v.is_active AND jsonb_typeof(v.attributes) = 'object' GROUP BY a.key, a.value"
    ),
    "sqlite": (
        "WITH listed (id) AS ({products}) "
        "SELECT a.key, a.value, COUNT(DISTINCT v.product_id) FROM listed "
        "JOIN catalog_variant v ON v.product_id = listed.id, json_each(v.attributes) AS a "
        "WHERE v.is_active AND json_type(v.attributes) = 'object' "
        "AND a.type IN ('text', 'integer', 'real') GROUP BY a.key, a.value"
    ),
}


def _attribute_facets(product_ids: QuerySet[Product]) -> dict[str, list[ValueFacet]]:
    sql, params = product_ids.query.sql_with_params()
    template = _ATTRIBUTE_SQL.get(connection.vendor)
    if template is None:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(template.format(products=sql), params)
        rows = cursor.fetchall()
    facets: dict[str, list[ValueFacet]] = {}
    for key, value, count in sorted(rows, key=lambda r: (str(r[0]), -r[2], str(r[1]))):
        values = facets.setdefault(str(key), [])
        if len(values) < MAX_ATTRIBUTE_VALUES:
            values.append({"value": str(value), "count": count})
    return facets


def listing_facets(*, listing: QuerySet[Product]) -> Facets:
    """Return the facets of ``listing`` (a ``product_listing`` queryset): two queries.

    ``categories``: each category holding listed products, by count (then name);
    ``attributes``: each variant attribute name with its values and how many listed products
    have an active variant with it (most common first, 30 values at most); ``price``: the
    lowest and highest ``price_from`` as decimal strings (``None`` when nothing is listed).
    """
    ids = listing.order_by().values("pk")
    # One GROUP BY gives the categories and, over them, the price range.
    categories = list(
        listing.order_by()
        .values("category__slug", "category__name")
        .annotate(count=Count("pk"), low=Min("price_from"), high=Max("price_from"))
    )
    low = min((row["low"] for row in categories if row["low"] is not None), default=None)
    high = max((row["high"] for row in categories if row["high"] is not None), default=None)
    return {
        "categories": [
            {"slug": row["category__slug"], "name": row["category__name"], "count": row["count"]}
            for row in sorted(categories, key=lambda r: (-r["count"], r["category__name"]))
        ],
        "attributes": _attribute_facets(ids),
        "price": {
            "min": None if low is None else f"{low:.2f}",
            "max": None if high is None else f"{high:.2f}",
        },
    }
