"""Fill the shop with a demo catalog (idempotent; safe to run on every start)."""

import io
import random
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from accounts.services import ensure_superuser
from catalog.models import Category, Product, ProductImage, ProductStatus, Variant
from catalog.search import refresh_search_index
from catalog.seed_data import (
    ADJECTIVES,
    BRANDS,
    CATEGORIES,
    DESCRIPTION_TEMPLATES,
    PALETTE,
)
from catalog.thumbnails import PRODUCT_IMAGE, generate_thumbnails
from inventory import services as inventory

ADMIN_EMAIL = "admin@shop.com"
ADMIN_PASSWORD = "admin123"  # noqa: S105 - documented demo credential, must be changed
SHARED_IMAGE_THRESHOLD = 200
BATCH = 2000


def placeholder_png(text: str, colour: tuple[int, int, int], size: int = 480) -> bytes:
    """Return a square PNG of ``colour`` with ``text`` (initials) centred in white."""
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size // 3)
    draw.text((size / 2, size / 2), text, fill=(255, 255, 255), font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def initials(name: str) -> str:
    return "".join(word[0] for word in name.split() if word[:1].isalnum())[:2].upper() or "?"


class Command(BaseCommand):
    help = (
        "Seed the demo shop: 8 top-level categories with subcategories, products with 1-4 "
        "variants, stock and placeholder images, and the superuser admin@shop.com (must change "
        "password): with DEBUG=true its password is admin123, otherwise it is created only "
        "with --admin-password or SHOP_SEED_ADMIN_PASSWORD (in production use createsuperuser). "
        "Idempotent: existing rows (by email, slug, SKU) are left alone. "
        "--products N builds a bigger catalog (e.g. 10000 for benchmarks)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=100, help="Products wanted (100).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (42).")
        parser.add_argument(
            "--admin-password",
            default="",
            help=(
                f"Create {ADMIN_EMAIL} with this password (validated; must be changed at first "
                "sign-in). Default: SHOP_SEED_ADMIN_PASSWORD, else admin123 with DEBUG=true, "
                "else no admin."
            ),
        )

    def handle(self, *args, products: int, seed: int, admin_password: str, **options):
        if products < 0:
            products = 0
        self.ensure_admin(admin_password or settings.SHOP_SEED_ADMIN_PASSWORD)
        with transaction.atomic():
            leaves = self.ensure_categories()
            created = self.ensure_products(products, leaves, random.Random(seed))
        if created and connection.vendor == "postgresql":
            # Fresh planner statistics after a bulk load, or the first queries pick bad plans.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded: {Category.objects.count()} categories, {created} new products "
                f"({Product.objects.count()} in total)."
            )
        )

    def ensure_admin(self, password: str) -> None:
        """The demo admin: the given password (validated), the demo one only with DEBUG."""
        if password:
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(f"--admin-password: {' '.join(exc.messages)}") from exc
        elif settings.DEBUG:
            password = ADMIN_PASSWORD
        else:
            self.stdout.write(
                f"No admin created: DEBUG is off, so the demo admin ({ADMIN_EMAIL} / "
                f"{ADMIN_PASSWORD}) is not made. Create your superuser with "
                "`python manage.py createsuperuser` (or pass --admin-password / set "
                "SHOP_SEED_ADMIN_PASSWORD)."
            )
            return
        if not ensure_superuser(email=ADMIN_EMAIL, password=password):
            return
        self.stdout.write(f"Created admin {ADMIN_EMAIL} (must change password at first sign-in).")

    def ensure_categories(self) -> list[tuple[Category, tuple, dict]]:
        """Create missing categories; return ``(category, spec, products)`` for every place
        products go: the leaves (a top level with subcategories holds none itself), each with
        the ``{noun: [materials]}`` that fit it."""
        homes: list[tuple[Category, tuple, dict]] = []
        for position, spec in enumerate(CATEGORIES):
            slug, name, description, children, products = spec[:5]
            top = Category.objects.filter(slug=slug).first() or Category.objects.create(
                slug=slug, name=name, description=description, position=position
            )
            if not children:
                homes.append((top, spec, products))
            for child_pos, (child_slug, child_name, child_products) in enumerate(children):
                child = Category.objects.filter(slug=child_slug).first()
                if child is None:
                    child = Category.objects.create(
                        slug=child_slug,
                        name=child_name,
                        parent=top,
                        description=f"{child_name} in {name}.",
                        position=child_pos,
                    )
                homes.append((child, spec, child_products))
        return homes

    def product_names(self, count: int, rng: random.Random, homes: list) -> list[tuple]:
        """Return ``count`` distinct ``(name, brand, adjective, noun, home)``, same prefix each run."""
        seen: set[str] = set()
        out: list[tuple] = []
        attempts = 0
        while len(out) < count:
            attempts += 1
            home = homes[rng.randrange(len(homes))]
            noun = rng.choice(sorted(home[2]))
            brand, adjective = rng.choice(BRANDS), rng.choice(ADJECTIVES)
            name = f"{brand} {adjective} {noun}"
            if attempts > count * 20:
                name = f"{name} {len(out) + 1}"
            if slugify(name) in seen:
                continue
            seen.add(slugify(name))
            out.append((name, brand, adjective, noun, home))
        return out

    def ensure_products(self, count: int, homes: list, rng: random.Random) -> int:
        specs = self.product_names(count, rng, homes)
        existing = set(Product.objects.values_list("slug", flat=True))
        existing_skus = {s.lower() for s in Variant.objects.values_list("sku", flat=True)}
        new_products: list[Product] = []
        plans: dict[str, list] = {}
        images: dict[str, tuple[str, str]] = {}
        for index, (name, brand, adjective, noun, (category, spec, products)) in enumerate(specs):
            slug = slugify(name)
            # Draw every random number even for existing products so later ones stay stable.
            material = rng.choice(products[noun])
            axis, options = spec[5]
            low, high = spec[6]
            base = Decimal(rng.randrange(low * 100, high * 100)) / 100
            n_variants = rng.randint(1, 4)
            stock_roll = [rng.random() for _ in range(n_variants)]
            stock_size = [rng.randint(8, 120) for _ in range(n_variants)]
            low_size = [rng.randint(1, 4) for _ in range(n_variants)]
            template = rng.choice(DESCRIPTION_TEMPLATES)
            if slug in existing:
                continue
            description = template.format(
                name=name,
                brand=brand,
                material=material,
                noun_lower=noun.lower(),
                adjective_lower=adjective.lower(),
            )
            new_products.append(
                Product(
                    name=name,
                    slug=slug,
                    description=description,
                    category=category,
                    attributes={"brand": brand, "material": material},
                    status=ProductStatus.ACTIVE,
                )
            )
            variants = []
            for j in range(n_variants):
                option = options[j] if n_variants > 1 else options[0]
                sku = f"{spec[0][:3].upper()}-{index + 1:05d}-{j + 1}"
                if sku.lower() in existing_skus:
                    continue
                price = base + (Decimal(j) * Decimal("2.00") if axis == "size" else 0)
                roll = stock_roll[j]
                on_hand = 0 if roll < 0.04 else low_size[j] if roll < 0.1 else stock_size[j]
                variants.append(
                    (sku, option if n_variants > 1 else "", price, axis, option, on_hand, j)
                )
            plans[slug] = variants
            images[slug] = (name, spec[0])
        for start in range(0, len(new_products), BATCH):
            Product.objects.bulk_create(new_products[start : start + BATCH])
        ids = dict(Product.objects.filter(slug__in=plans.keys()).values_list("slug", "id"))
        self.create_variants_and_stock(plans, ids)
        refresh_search_index(product_ids=ids.values())  # bulk_create sends no post_save
        self.create_images(images, ids, shared=count > SHARED_IMAGE_THRESHOLD)
        return len(new_products)

    def create_variants_and_stock(self, plans: dict, ids: dict) -> None:
        variants, quantities = [], {}
        for slug, rows in plans.items():
            for sku, vname, price, axis, option, on_hand, position in rows:
                variants.append(
                    Variant(
                        product_id=ids[slug],
                        sku=sku,
                        name=vname,
                        price=price,
                        attributes={axis: option},
                        position=position,
                    )
                )
                quantities[sku] = on_hand
        Variant.objects.bulk_create(variants, batch_size=BATCH)
        by_sku = dict(Variant.objects.filter(sku__in=quantities).values_list("sku", "id"))
        inventory.create_stock_items(
            on_hand={by_sku[sku]: qty for sku, qty in quantities.items()},
            low_stock_threshold=settings.SHOP_LOW_STOCK_THRESHOLD,
            note="seed_shop initial stock",
            batch_size=BATCH,
        )

    def create_images(self, images: dict, ids: dict, *, shared: bool) -> None:
        """One PNG per product for small catalogs; a few shared per-category PNGs for big ones."""
        rows = []
        for i, (slug, (name, category_slug)) in enumerate(images.items()):
            if shared:
                colour_index = [c[0] for c in CATEGORIES].index(category_slug)
                path = f"products/seed/{category_slug}.png"
                text = initials({c[0]: c[1] for c in CATEGORIES}[category_slug])
            else:
                colour_index = i
                path = f"products/seed/{slug}.png"
                text = initials(name)
            if not default_storage.exists(path):
                colour = PALETTE[colour_index % len(PALETTE)]
                default_storage.save(path, ContentFile(placeholder_png(text, colour)))
            rows.append(ProductImage(product_id=ids[slug], image=path, alt=name, position=0))
        ProductImage.objects.bulk_create(rows, batch_size=BATCH)
        for path in {row.image.name for row in rows}:
            generate_thumbnails(source=path, target=PRODUCT_IMAGE)
