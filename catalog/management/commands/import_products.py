"""Import or update products, variants and stock from a JSON file, all or nothing."""

import json
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify
from rest_framework import serializers

from catalog import services
from catalog.api.serializers import AttributesField
from catalog.models import Category, Product, ProductStatus, Variant
from inventory import services as inventory
from shop.api.exceptions import flatten_errors
from shop.errors import DomainError

HELP = """Import products from FILE.json (a JSON array, one object per product):

  [
    {
      "name": "Trail Runner",              required
      "slug": "trail-runner",              optional; the key for updates (default: from name)
      "category": "running",               required; slug of an existing category
      "description": "Light and grippy.",  optional
      "status": "active",                  optional: draft | active | archived (default active)
      "attributes": {"brand": "Acme"},     optional; flat object
      "variants": [                        required; at least one
        {
          "sku": "TR-40",                  required; unique (case-insensitive)
          "price": "89.90",                required; decimal > 0, as a string or number
          "name": "EU 40",                 optional
          "attributes": {"size": "40"},    optional
          "is_active": true,               optional (default true)
          "position": 0,                   optional
          "on_hand": 12,                   optional; the stock level to set (a movement is
                                           written for the difference)
          "low_stock_threshold": 3         optional
        }
      ]
    }
  ]

A product whose slug exists is updated; a variant whose SKU exists (on the same product)
is updated, others are added. Every row is validated first; each bad row is reported with
its index and line, and nothing is imported if any row is bad. See catalog/samples/products.json.
"""


class ImportVariantSerializer(serializers.Serializer):
    sku = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    attributes = AttributesField(default=dict)
    is_active = serializers.BooleanField(required=False, default=True)
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10**6)
    on_hand = serializers.IntegerField(required=False, min_value=0, max_value=10**9)
    low_stock_threshold = serializers.IntegerField(required=False, min_value=0, max_value=10**9)


class ImportProductSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=220, required=False)
    category = serializers.SlugRelatedField(slug_field="slug", queryset=Category.objects.all())
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ProductStatus.choices, required=False)
    attributes = AttributesField()
    variants = ImportVariantSerializer(many=True, min_length=1, max_length=100)

    def validate(self, attrs):
        attrs["slug"] = attrs.get("slug") or slugify(attrs["name"])[:220]
        if not attrs["slug"]:
            raise serializers.ValidationError({"slug": ["Cannot derive a slug from the name."]})
        return attrs


def rows_with_lines(text: str) -> list[tuple[object, int]]:
    """Parse a JSON array; return each element with the line it starts on.

    Raises ``ValueError`` with the line and column of a syntax error.
    """
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    if pos >= len(text) or text[pos] != "[":
        raise ValueError("The file must contain a JSON array of products (line 1).")
    pos = _skip(text, pos + 1)
    rows: list[tuple[object, int]] = []
    if pos < len(text) and text[pos] == "]":
        return rows
    while True:
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        rows.append((value, line))
        pos = _skip(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            if _skip(text, pos + 1) != len(text):
                raise ValueError("Unexpected content after the array.")
            return rows
        line = text.count("\n", 0, pos) + 1
        raise ValueError(f"Invalid JSON at line {line}: expected ',' or ']'.")


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        kwargs["formatter_class"] = RawDescriptionHelpFormatter
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Path of the JSON file.")

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            rows = rows_with_lines(text)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        valid, problems = self.validate(rows)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} problem(s) found; nothing was imported.")

        created = updated = 0
        with transaction.atomic():
            for index, line, data in valid:
                try:
                    was_created = self.import_row(data)
                except DomainError as exc:
                    raise CommandError(
                        f"row {index} (line {line}): {exc.detail}; nothing was imported."
                    ) from exc
                created += was_created
                updated += not was_created
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(valid)} product(s): {created} new, {updated} updated."
            )
        )

    def validate(self, rows: list[tuple[object, int]]):
        valid, problems = [], []
        slugs: dict[str, int] = {}
        skus: dict[str, tuple[int, str]] = {}
        for index, (raw, line) in enumerate(rows):
            where = f"row {index} (line {line})"
            if not isinstance(raw, dict):
                problems.append(f"{where}: expected an object.")
                continue
            serializer = ImportProductSerializer(data=raw)
            if not serializer.is_valid():
                for field, messages in flatten_errors(serializer.errors).items():
                    problems.append(f"{where}: {field}: {' '.join(messages)}")
                continue
            data = serializer.validated_data
            row_problems = []
            if data["slug"] in slugs:
                row_problems.append(f"slug: {data['slug']!r} repeats row {slugs[data['slug']]}.")
            slugs.setdefault(data["slug"], index)
            product = Product.objects.filter(slug=data["slug"]).first()
            for v_index, variant in enumerate(data["variants"]):
                key = variant["sku"].lower()
                if key in skus:
                    other = skus[key][0]
                    row_problems.append(
                        f"variants.{v_index}.sku: {variant['sku']!r} repeats row {other}."
                    )
                skus.setdefault(key, (index, data["slug"]))
                owner = (
                    Variant.objects.filter(sku__iexact=variant["sku"])
                    .values_list("product__slug", flat=True)
                    .first()
                )
                if owner is not None and (product is None or owner != product.slug):
                    row_problems.append(
                        f"variants.{v_index}.sku: {variant['sku']!r} belongs to product {owner!r}."
                    )
            if row_problems:
                problems.extend(f"{where}: {p}" for p in row_problems)
            else:
                valid.append((index, line, data))
        return valid, problems

    def import_row(self, data: dict) -> bool:
        """Create or update one product and its variants; return whether it was created."""
        product = Product.objects.filter(slug=data["slug"]).first()
        fields = {
            k: data[k]
            for k in ("name", "category", "description", "status", "attributes")
            if k in data
        }
        created = product is None
        if created:
            product = services.create_product(slug=data["slug"], **fields)
        else:
            product = services.update_product(product=product, **fields)
        for spec in data["variants"]:
            spec = dict(spec)
            on_hand = spec.pop("on_hand", None)
            variant = Variant.objects.filter(sku__iexact=spec["sku"]).first()
            if variant is None:
                services.add_variant(product=product, data={**spec, "on_hand": on_hand or 0})
                continue
            services.update_variant(variant=variant, **spec)
            if on_hand is not None:
                inventory.set_on_hand(variant=variant, on_hand=on_hand, note="import_products")
        return created
