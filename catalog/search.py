"""Product search: ranked full-text search plus trigram similarity for typos.

On PostgreSQL each product stores a ``search_vector`` (name weighted A, its variants' SKUs B,
description C; GIN index ``catalog_prod_search``), kept current by ``refresh_search_index``
(called by the catalogue's ``post_save`` receivers, ``seed_shop`` and the migration that added
it). A search matches products whose vector matches the words (``websearch_to_tsquery``,
English stemming) or whose name is close to them (pg_trgm ``word_similarity`` at least
``TRIGRAM_THRESHOLD``: "lamb" finds "lamp", "sacepan" finds "saucepan"), ranked by
``ts_rank`` plus that similarity. The extension and the trigram index on the name
(``catalog_prod_name_trgm``, which also serves the ``icontains`` of the suggestions) come
from migration ``0002_product_search``.

On SQLite (``make run``) search is a case-insensitive substring match on the name,
description and SKUs, ordered by name.
"""

from collections.abc import Iterable
from typing import Any, TypeVar, cast

from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import (
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce

from catalog.models import Product, Variant

ProductRows = TypeVar("ProductRows", bound=QuerySet[Any])
TRIGRAM_THRESHOLD = 0.45
CONFIG = "english"
BATCH = 1000


def is_full_text() -> bool:
    """Return whether the database offers full-text and trigram search (PostgreSQL)."""
    return connection.vendor == "postgresql"


def _skus(product_ref: str = "pk") -> Subquery:
    return Subquery(
        Variant.objects.filter(product_id=OuterRef(product_ref))
        .order_by()
        .values("product_id")
        .annotate(skus=StringAgg("sku", delimiter=" "))
        .values("skus")[:1]
    )


def search_vector() -> SearchVector:
    """Return the weighted document of a product: name (A) > SKUs (B) > description (C)."""
    return (
        SearchVector("name", weight="A", config=CONFIG)
        + SearchVector(
            Coalesce(_skus(), Value(""), output_field=TextField()), weight="B", config="simple"
        )
        + SearchVector("description", weight="C", config=CONFIG)
    )


def refresh_search_index(*, product_ids: Iterable[int]) -> int:
    """Recompute the ``search_vector`` of the given products; return how many were updated.

    One ``UPDATE`` per 1,000 products; nothing on SQLite (which searches without an index).
    Writes only the catalogue's own table and sends no signals.
    """
    if not is_full_text():
        return 0
    ids = sorted(set(product_ids))
    updated = 0
    for start in range(0, len(ids), BATCH):
        updated += Product.objects.filter(pk__in=ids[start : start + BATCH]).update(
            search_vector=search_vector()
        )
    return updated


def apply_search(qs: ProductRows, *, text: str) -> ProductRows:
    """Filter ``qs`` to the products matching ``text``, annotated with ``search_rank``.

    ``search_rank`` orders by relevance (higher first). Adds no query.
    """
    return cast(ProductRows, _searched(qs, text=text))


def _searched(qs: QuerySet[Product], *, text: str) -> QuerySet[Product]:
    sku_match = Exists(Variant.objects.filter(product_id=OuterRef("pk"), sku__icontains=text))
    if not is_full_text():
        return qs.filter(
            Q(name__icontains=text) | Q(description__icontains=text) | sku_match
        ).annotate(search_rank=Value(0.0, output_field=FloatField()))
    # The English query stems words ("saucepans"); the simple one keeps codes (SKUs) whole.
    query = SearchQuery(text, search_type="websearch", config=CONFIG) | SearchQuery(
        text, search_type="websearch", config="simple"
    )
    matches = Q(search_vector=query) | Q(name_similarity__gte=TRIGRAM_THRESHOLD)
    # Part of a SKU ("KET-00") is matched as text only when the text looks like a code (a
    # digit in it): a per-product subquery that plain words do not need to pay for.
    if any(ch.isdigit() for ch in text):
        matches |= sku_match
    return (
        qs.annotate(name_similarity=TrigramWordSimilarity(text, "name"))
        .filter(matches)
        .annotate(
            search_rank=Coalesce(
                SearchRank(F("search_vector"), query), Value(0.0), output_field=FloatField()
            )
            + F("name_similarity")
        )
    )


def suggestions(*, text: str, limit: int = 8) -> list[dict]:
    """Return up to ``limit`` active products for the header's suggestions: name and slug.

    The best matches by the same rule as ``apply_search``; one query.
    """
    text = text.strip()
    if len(text) < 2:
        return []
    qs = apply_search(Product.objects.purchasable(), text=text)
    return list(qs.order_by("-search_rank", "name", "id").values("name", "slug")[:limit])
