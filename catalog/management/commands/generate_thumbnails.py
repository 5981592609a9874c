"""Make the thumbnails that product and category images lack (e.g. images stored before)."""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Category, ProductImage
from catalog.thumbnails import (
    CATEGORY_IMAGE,
    PRODUCT_IMAGE,
    ThumbnailError,
    generate_thumbnails,
)


class Command(BaseCommand):
    help = (
        "Make the missing thumbnails of every product and category image (each stored image "
        "once, at every size the pages show, 1x and 2x). Idempotent: run it after upgrading or "
        "after changing THUMBNAIL_ALIASES (a new size has a new name); --force remakes them "
        "all. Fails, listing the images, if some could not be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Remake existing thumbnails.")

    def handle(self, *args, force: bool = False, **options):
        sources = [
            (name, PRODUCT_IMAGE)
            for name in ProductImage.objects.order_by("image")
            .values_list("image", flat=True)
            .distinct()
        ] + [
            (name, CATEGORY_IMAGE)
            for name in Category.objects.exclude(image="")
            .order_by("image")
            .values_list("image", flat=True)
            .distinct()
        ]
        made, failed = 0, []
        for name, target in sources:
            try:
                made += len(generate_thumbnails(source=name, target=target, force=force))
            except ThumbnailError as exc:
                failed.append(name)
                self.stderr.write(str(exc))
        self.stdout.write(f"Made {made} thumbnail(s) of {len(sources)} image(s).")
        if failed:
            raise CommandError(f"{len(failed)} image(s) could not be read: {', '.join(failed)}")
