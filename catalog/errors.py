"""Stable error codes of the catalog and the domain exceptions that carry them."""

from enum import StrEnum

from shop.errors import DomainError


class CatalogErrorCode(StrEnum):
    SKU_TAKEN = "sku_taken"
    SLUG_TAKEN = "slug_taken"
    CATEGORY_CYCLE = "category_cycle"
    INVALID_VARIANT = "invalid_variant"
    INVALID_IMAGE = "invalid_image"
    PRECONDITION_FAILED = "precondition_failed"
    CATEGORY_NOT_EMPTY = "category_not_empty"


class SkuTaken(DomainError):
    """Another variant already uses this SKU (compared case-insensitively).

    400, like every invalid input of the staff writes: the API reports it on the ``sku``
    field (``validation_error``) when its serializer asks ``ensure_sku_free``.
    """

    code = CatalogErrorCode.SKU_TAKEN
    status_code = 400
    default_detail = "This SKU is already used by another variant."

    def __init__(self, sku: str) -> None:
        super().__init__(f"SKU {sku!r} is already used by another variant.", sku=sku)
        self.sku = sku


class SlugTaken(DomainError):
    """Another product or category already uses this slug (400, reported like ``SkuTaken``)."""

    code = CatalogErrorCode.SLUG_TAKEN
    status_code = 400
    default_detail = "This slug is already in use."

    def __init__(self, slug: str) -> None:
        super().__init__(f"Slug {slug!r} is already in use.", slug=slug)
        self.slug = slug


class CategoryCycle(DomainError):
    """A category cannot be moved under itself or one of its descendants."""

    code = CatalogErrorCode.CATEGORY_CYCLE
    status_code = 400
    default_detail = "A category cannot be moved under itself or its own subtree."


class InvalidVariant(DomainError):
    """Variant data breaks a catalog rule (e.g. a price that is not positive)."""

    code = CatalogErrorCode.INVALID_VARIANT
    status_code = 400
    default_detail = "The variant data is invalid."


class InvalidImage(DomainError):
    """An uploaded product image is not a picture Pillow can read (or is not one at all)."""

    code = CatalogErrorCode.INVALID_IMAGE
    status_code = 400
    default_detail = "Upload a valid image (JPEG, PNG, WebP or GIF)."


class StaleVersion(DomainError):
    """The row changed since the caller read it (its version moved on): nothing was saved."""

    code = CatalogErrorCode.PRECONDITION_FAILED
    status_code = 412
    default_detail = "This item was changed by someone else since you read it."

    def __init__(self, current_version: int) -> None:
        super().__init__(
            "This item was changed by someone else since you read it; reload and retry.",
            version=current_version,
        )
        self.current_version = current_version


class CategoryNotEmpty(DomainError):
    """A category with subcategories or products cannot be deleted."""

    code = CatalogErrorCode.CATEGORY_NOT_EMPTY
    status_code = 409
    default_detail = "Move or delete its subcategories and products first."
