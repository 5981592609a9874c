"""Filters of the staff stock list; invalid values are 400 ``validation_error``."""

import django_filters

from inventory.models import StockItem
from inventory.selectors import low_stock_condition
from shop.api.filters import StrictBooleanFilter


class StockFilter(django_filters.FilterSet):
    low_stock = StrictBooleanFilter(
        method="filter_low_stock", help_text="`true`: rows at or below their threshold."
    )
    search = django_filters.CharFilter(
        field_name="variant__sku",
        lookup_expr="icontains",
        max_length=64,
        help_text="Part of a SKU.",
    )

    class Meta:
        model = StockItem
        fields = ["low_stock", "search"]

    def filter_low_stock(self, queryset, name, value: bool | None):
        if value is None:
            return queryset
        low = low_stock_condition()
        return queryset.filter(low) if value else queryset.exclude(low)
