"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

from shop.telemetry import configure_tracing  # noqa: E402

configure_tracing()
application = get_asgi_application()
