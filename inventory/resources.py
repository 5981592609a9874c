"""Stock levels as CSV/XLSX: exported as a count sheet, imported back as the counted
quantities (each change through ``inventory.services.set_on_hand``: a restock or correction
movement in the ledger). Only ``on_hand`` is read from an import; a row for an unknown SKU, a
quantity that is not a whole number, or one below what is allocated to orders is a row error
shown in the preview, and nothing is written until there are none."""

from typing import Any

from django.core.exceptions import ValidationError
from import_export import fields, resources

from inventory import services
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
    on_hand = fields.Field(attribute="on_hand", column_name="on_hand")
    allocated = fields.Field(attribute="allocated", column_name="allocated", readonly=True)
    held = fields.Field(attribute="held", column_name="held", readonly=True)
    available = fields.Field(attribute="available", column_name="available", readonly=True)
    low_stock_threshold = fields.Field(
        attribute="low_stock_threshold", column_name="low_stock_threshold", readonly=True
    )

    class Meta:
        model = StockItem
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["sku"]
        skip_unchanged = True
        report_skipped = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = kwargs.get("user")

    def get_instance(self, instance_loader, row: dict) -> StockItem | None:
        sku = str(row.get("sku") or "").strip()
        if not sku:
            return None
        return StockItem.objects.select_related("variant").filter(variant__sku__iexact=sku).first()

    def import_instance(self, instance: StockItem, row: dict, **kwargs: Any) -> None:
        sku = str(row.get("sku") or "").strip()
        if instance.pk is None:
            raise ValidationError({"sku": [f"Unknown SKU “{sku}”."]})
        counted = str(row.get("on_hand") or "").strip()
        if not counted.isdigit():
            raise ValidationError({"on_hand": ["The counted quantity is a whole number ≥ 0."]})
        if int(counted) < instance.allocated:
            raise ValidationError(
                {"on_hand": [f"{instance.allocated} units are allocated to orders."]}
            )
        instance.on_hand = int(counted)

    def save_instance(self, instance: StockItem, is_create: bool, row: dict, **kwargs) -> None:
        services.set_on_hand(
            variant=instance.variant,
            on_hand=instance.on_hand,
            user=self.user,
            note="stock count (import)",
        )
