"""Stock levels as CSV/XLSX (export only: quantities change through inventory.services)."""

from import_export import fields, resources

from inventory.models import StockItem

COLUMNS = (
    "sku",
    "product",
    "variant",
    "on_hand",
    "allocated",
    "held",
    "available",
    "low_stock_threshold",
)


class StockLevelResource(resources.ModelResource):
    """One row per SKU; ``held`` and ``available`` come from the changelist's annotations
    (``inventory.selectors.with_available``)."""

    sku = fields.Field(attribute="variant__sku", column_name="sku", readonly=True)
    product = fields.Field(attribute="variant__product__name", column_name="product", readonly=True)
    variant = fields.Field(attribute="variant__name", column_name="variant", readonly=True)
    held = fields.Field(attribute="held", column_name="held", readonly=True)
    available = fields.Field(attribute="available", column_name="available", readonly=True)

    class Meta:
        model = StockItem
        fields = COLUMNS
        export_order = COLUMNS
