"""Forms of the product editor: attributes as name/value rows, starting stock per variant."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog.concurrency import VersionedFormMixin
from catalog.models import Product, Variant

#: Blank rows offered under the existing attributes.
BLANK_ROWS = 2
MAX_ATTRIBUTE_LENGTH = 100


class AttributeRowsWidget(forms.Widget):
    """Attributes (a JSON object of strings) edited as rows of name and value inputs.

    Posts ``<name>-name`` and ``<name>-value`` lists of equal length; blank rows are ignored.
    """

    template_name = "admin/widgets/attribute_rows.html"

    def __init__(self, attrs: dict | None = None, blank_rows: int = BLANK_ROWS) -> None:
        super().__init__(attrs)
        self.blank_rows = blank_rows

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        pairs = list(value.items()) if isinstance(value, dict) else list(value or [])
        context["rows"] = [*pairs, *([("", "")] * self.blank_rows)]
        return context

    def _render(self, template_name: str, context: dict, renderer=None) -> SafeString:
        # The project's template engine (the form renderer only sees Django's own widgets).
        return mark_safe(render_to_string(template_name, context))  # noqa: S308 - a template

    def value_from_datadict(self, data, files, name: str) -> list[tuple[str, str]]:
        names = data.getlist(f"{name}-name") if hasattr(data, "getlist") else []
        values = data.getlist(f"{name}-value") if hasattr(data, "getlist") else []
        return list(zip(names, values, strict=False))

    def value_omitted_from_data(self, data, files, name: str) -> bool:
        return f"{name}-name" not in data

    def format_value(self, value: Any) -> Any:
        return value


class AttributesField(forms.Field):
    """A ``dict[str, str]`` of attributes from the widget's rows; names must be unique."""

    widget = AttributeRowsWidget

    def to_python(self, value: Any) -> dict[str, str]:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        attributes: dict[str, str] = {}
        for raw_name, raw_value in value or []:
            name, text = str(raw_name).strip(), str(raw_value).strip()
            if not name and not text:
                continue
            if not name:
                raise ValidationError(f"Give the attribute with value “{text}” a name.")
            if not text:
                raise ValidationError(f"Give the attribute “{name}” a value.")
            if max(len(name), len(text)) > MAX_ATTRIBUTE_LENGTH:
                raise ValidationError(f"At most {MAX_ATTRIBUTE_LENGTH} characters per entry.")
            if name.lower() in {n.lower() for n in attributes}:
                raise ValidationError(f"The attribute “{name}” is listed twice.")
            attributes[name] = text
        return attributes

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(initial or {}) != self.to_python(data)
        except ValidationError:
            return True


class VariantInlineForm(VersionedFormMixin, forms.ModelForm):
    """A variant row; a new variant also takes its starting stock (``inventory.services``)."""

    attributes = AttributesField(required=False, widget=AttributeRowsWidget(blank_rows=1))
    starting_stock = forms.IntegerField(
        min_value=0,
        max_value=1_000_000,
        required=False,
        initial=0,
        help_text="Units on hand (new variants only).",
    )

    class Meta:
        model = Variant
        fields = ["sku", "name", "price", "attributes", "is_active", "position"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # An existing variant's stock changes in Stock, never here.
            self.fields["starting_stock"].widget = forms.HiddenInput()
            self.fields["starting_stock"].disabled = True


class ProductForm(VersionedFormMixin, forms.ModelForm):
    attributes = AttributesField(required=False)

    class Meta:
        model = Product
        fields = ["name", "slug", "description", "category", "attributes", "status"]


class VariantForm(VersionedFormMixin, forms.ModelForm):
    """The variant's own page (its stock is changed in Stock, through inventory.services)."""

    attributes = AttributesField(required=False)

    class Meta:
        model = Variant
        fields = ["product", "sku", "name", "price", "attributes", "is_active", "position"]
