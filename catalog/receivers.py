"""The catalogue's receivers, connected in ``CatalogConfig.ready()``.

- Invalidate cached catalog reads when a row shoppers can see changes (see catalog.cache).
- Keep a product's full-text document current when it or a variant is saved
  (``catalog.search.refresh_search_index``).
- After a committed stock change, email one batch of back-in-stock alerts now due
  (``catalog.alerts.send_due_alerts``).

The stock models are imported to listen to them, never to write them; the only writes here go
through the catalogue's own modules. Stock services write with ``.update()``, which sends no
model signals: they send ``inventory.signals.stock_changed``.
"""

from django.db.models.signals import post_delete, post_migrate, post_save

from catalog.alerts import send_due_alerts
from catalog.cache import bump_catalog_version
from catalog.models import Category, Product, ProductImage, Variant
from catalog.search import refresh_search_index
from inventory.models import StockHold, StockItem
from inventory.signals import stock_changed

# StockHold: only post_save (factories, admin); a post_delete receiver would stop Django
# from fast-deleting holds in bulk, and the services that delete them send stock_changed.
SAVED = (Category, Product, ProductImage, Variant, StockItem, StockHold)
DELETED = (Category, Product, ProductImage, Variant, StockItem)


def catalog_changed(sender, using=None, **kwargs) -> None:
    """Bump the catalog version after the transaction that changed ``sender`` commits."""
    bump_catalog_version(using=using)


def product_saved(sender, instance: Product, raw: bool = False, **kwargs) -> None:
    """Keep the product's full-text document current (name, description)."""
    if not raw:
        refresh_search_index(product_ids=[instance.pk])


def variant_saved(sender, instance: Variant, raw: bool = False, **kwargs) -> None:
    """A SKU is part of its product's full-text document."""
    if not raw:
        refresh_search_index(product_ids=[instance.product_id])


def stock_changed_receiver(sender, **kwargs) -> None:
    """Stock or holds changed (sent after commit): bump the catalog version."""
    bump_catalog_version()


def stock_alerts_receiver(sender, **kwargs) -> None:
    """Stock changed (after commit): email one batch of back-in-stock alerts now due.

    The only write here: it goes through ``catalog.alerts`` (the catalogue's own table).
    """
    send_due_alerts()


def database_reset(sender, using=None, **kwargs) -> None:
    """``flush`` and ``migrate`` rewrite tables without model signals: start a new version."""
    bump_catalog_version(using=using)


def connect(app_config) -> None:
    """Connect the receivers (called once, from ``CatalogConfig.ready()``)."""
    post_migrate.connect(database_reset, sender=app_config, dispatch_uid="catalog-cache-reset")
    stock_changed.connect(stock_changed_receiver, dispatch_uid="catalog-cache-stock-changed")
    stock_changed.connect(stock_alerts_receiver, dispatch_uid="catalog-stock-alerts")
    post_save.connect(product_saved, sender=Product, dispatch_uid="catalog-search-product")
    post_save.connect(variant_saved, sender=Variant, dispatch_uid="catalog-search-variant")
    for model in SAVED:
        post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-cache-save-{model}")
    for model in DELETED:
        post_delete.connect(
            catalog_changed, sender=model, dispatch_uid=f"catalog-cache-delete-{model}"
        )
