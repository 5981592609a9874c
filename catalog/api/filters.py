"""Query-string filters of the catalog API; invalid values are 400 ``validation_error``."""

import django_filters
from django.core.validators import DecimalValidator

from catalog.facets import attribute_filters
from catalog.models import Category, Product
from catalog.selectors import ORDERINGS, product_listing
from shop.api.filters import StrictBooleanFilter

# The query parameters that select products (pagination aside): the list's cache key.
LISTING_PARAMS = ("category", "search", "min_price", "max_price", "in_stock", "ordering")


class ProductFilter(django_filters.FilterSet):
    """Validates the product list's filters, then lets ``product_listing`` build the query."""

    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(),
        to_field_name="slug",
        help_text="Category slug; includes its descendant categories.",
    )
    search = django_filters.CharFilter(
        max_length=200, help_text="Text in the name, description or a SKU."
    )
    min_price = django_filters.NumberFilter(help_text="Lowest `price_from`.")
    max_price = django_filters.NumberFilter(help_text="Highest `price_from`.")
    in_stock = StrictBooleanFilter(help_text="`true`: only products that can be bought now.")
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in ORDERINGS], help_text="Sort order (default: name)."
    )

    class Meta:
        model = Product
        fields = list(LISTING_PARAMS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("min_price", "max_price"):
            self.form.fields[name].validators.append(DecimalValidator(12, 2))
        # attr_<name>=<value> (variant attributes): the names are the shop's, not declared.
        self.attributes, self._attribute_errors = attribute_filters(self.data or {})

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, messages in self._attribute_errors.items():
            self.form.errors[name] = self.form.error_class(messages)
        return valid and not self._attribute_errors

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        return product_listing(
            category=data.get("category"),
            search=data.get("search") or "",
            min_price=data.get("min_price"),
            max_price=data.get("max_price"),
            in_stock=data.get("in_stock"),
            attributes=self.attributes,
            ordering=data.get("ordering") or "",
        )
