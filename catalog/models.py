from decimal import Decimal

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Lower, Substr
from django.utils.text import slugify


class Category(models.Model):
    """A node in the category tree (any depth).

    ``path`` is a materialized path of ids (``/1/5/12/``) so a category's descendants are
    one ``path__startswith`` query and cycles can be rejected cheaply.
    """

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    image = models.ImageField(upload_to="categories/", blank=True)
    path = models.CharField(max_length=512, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; ETag and stale-save check."
    )

    class Meta:
        ordering = ["path"]
        verbose_name_plural = "categories"
        indexes = [models.Index(fields=["parent", "position"], name="catalog_cat_parent_pos")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = unique_slug(Category, self.name)
        with transaction.atomic():
            old_path = self.path
            self.clean()
            super().save(*args, **kwargs)
            parent_path = self.parent.path if self.parent_id else "/"
            new_path = f"{parent_path}{self.pk}/"
            if new_path != old_path:
                self.path = new_path
                self.depth = new_path.count("/") - 2
                Category.objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)
                if old_path:
                    # Re-root the subtree in one statement.
                    Category.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                        path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)),
                        depth=F("depth") + (self.depth - (old_path.count("/") - 2)),
                    )

    def clean(self) -> None:
        if self.parent_id is None:
            return
        if self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": "A category cannot be its own parent."})
        if self.pk and self.path:
            parent_path = Category.objects.filter(pk=self.parent_id).values_list("path", flat=True)
            if parent_path and parent_path[0].startswith(self.path):
                raise ValidationError(
                    {"parent": "A category cannot be moved under its own subtree."}
                )

    def descendants(self, include_self: bool = True) -> models.QuerySet["Category"]:
        """Return the subtree below this category in one query."""
        qs = Category.objects.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/")[:-1] if p]

    def ancestors(self) -> models.QuerySet["Category"]:
        """Return the categories above this one, root first."""
        return Category.objects.filter(pk__in=self.ancestor_ids()).order_by("depth")


class ProductStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class ProductQuerySet(models.QuerySet["Product"]):
    def purchasable(self) -> "ProductQuerySet":
        """Products shoppers can see and buy: active (not draft, not archived)."""
        return self.filter(status=ProductStatus.ACTIVE)


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    attributes = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ProductStatus.choices, default=ProductStatus.ACTIVE, db_index=True
    )
    tax_class = models.SlugField(
        max_length=32,
        blank=True,
        help_text="Empty: the standard rate; else a class with its own rate per country "
        "(e.g. reduced).",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; ETag and stale-save check."
    )
    # Full-text document (PostgreSQL only; see catalog.search). Null on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    # Summaries kept by catalog.reviews and catalog.popularity, never computed per request.
    rating_average = models.DecimalField(
        max_digits=3, decimal_places=2, null=True, blank=True, editable=False
    )
    rating_count = models.PositiveIntegerField(default=0, editable=False)
    units_sold_30d = models.PositiveIntegerField(
        default=0, editable=False, help_text="Units sold in the last 30 days."
    )

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["status", "category"], name="catalog_prod_status_cat"),
            models.Index(fields=["status", "name"], name="catalog_prod_status_name"),
            models.Index(fields=["status", "-created_at"], name="catalog_prod_status_new"),
            models.Index(
                fields=["status", "-rating_average", "-rating_count"],
                name="catalog_prod_status_rating",
            ),
            models.Index(fields=["status", "-units_sold_30d"], name="catalog_prod_status_sold"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = unique_slug(Product, self.name)
        super().save(*args, **kwargs)

    @property
    def is_purchasable(self) -> bool:
        """Whether shoppers can buy this product (the rule of ``ProductQuerySet.purchasable``)."""
        return self.status == ProductStatus.ACTIVE


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/")
    alt = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.alt or self.image.name


class VariantQuerySet(models.QuerySet["Variant"]):
    def active(self) -> "VariantQuerySet":
        """Variants not switched off (``is_active``), whatever their product's status."""
        return self.filter(is_active=True)

    def purchasable(self) -> "VariantQuerySet":
        """Variants shoppers can buy: active, of a purchasable product (joins the product)."""
        return self.active().filter(product__status=ProductStatus.ACTIVE)


class Variant(models.Model):
    """A sellable SKU of a product (e.g. "Red / M")."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=120, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    attributes = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every write; ETag and stale-save check."
    )
    weight_grams = models.PositiveIntegerField(
        default=0, help_text="Shipping weight in grams (shipping rate bands)."
    )

    objects = VariantQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(Lower("sku"), name="catalog_variant_sku_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(price__gt=Decimal("0")), name="catalog_variant_price_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "is_active", "price"], name="catalog_var_prod_price"),
            models.Index(fields=["sku"], name="catalog_var_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} ({self.product.name} {self.name})".strip()

    @property
    def is_purchasable(self) -> bool:
        """Whether shoppers can buy this variant (the rule of ``VariantQuerySet.purchasable``).

        Reads ``product``: select it with the variant when checking many.
        """
        return self.is_active and self.product.is_purchasable


def unique_slug(model: type[models.Model], text: str, max_length: int = 200) -> str:
    """Return a slug of ``text`` that no row of ``model`` uses yet (``name``, ``name-2``...)."""
    base = slugify(text)[:max_length] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting for moderation"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"


class Review(models.Model):
    """A shopper's rating (1-5) and review of a product: one per user and product.

    Written by ``catalog.reviews``; only published reviews count in the product's rating.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120, blank=True)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    verified_buyer = models.BooleanField(default=False)
    rejection_reason = models.CharField(max_length=300, blank=True)
    moderated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="catalog_review_once"),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="catalog_review_rating_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "status", "-created_at"], name="catalog_review_list"),
            models.Index(fields=["status", "created_at"], name="catalog_review_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.product_id} by {self.user_id} ({self.status})"


class ProductSales(models.Model):
    """Units of a product sold on one day: the window behind ``Product.units_sold_30d``."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="daily_sales")
    day = models.DateField()
    units = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "product sales"
        constraints = [
            models.UniqueConstraint(fields=["product", "day"], name="catalog_sales_product_day")
        ]
        indexes = [models.Index(fields=["day"], name="catalog_sales_day")]

    def __str__(self) -> str:
        return f"{self.product_id} on {self.day}: {self.units}"


class WishlistItem(models.Model):
    """A product a signed-in shopper saved for later (once per user and product)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="wishlist")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="wishlisted")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="catalog_wishlist_once")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.user_id}'s wishlist"


class StockAlertStatus(models.TextChoices):
    ACTIVE = "active", "Waiting for stock"
    NOTIFIED = "notified", "Emailed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    EXPIRED = "expired", "Expired"


class StockAlert(models.Model):
    """ "Email me when it is back": one per address and variant while waiting.

    Written by ``catalog.alerts``. ``token`` is the secret of the one-click unsubscribe link.
    """

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="stock_alerts")
    email = models.EmailField(max_length=254)
    user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stock_alerts",
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(
        max_length=12, choices=StockAlertStatus.choices, default=StockAlertStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "email"],
                condition=models.Q(status="active"),
                name="catalog_alert_one_active",
            )
        ]
        indexes = [
            models.Index(fields=["status", "variant"], name="catalog_alert_due"),
            models.Index(fields=["email", "created_at"], name="catalog_alert_email"),
        ]

    def __str__(self) -> str:
        return f"{self.email} for {self.variant_id} ({self.status})"
