"""The production WSGI app, fully imported before gunicorn forks (``--preload``).

For tests that kill gunicorn workers: a replacement worker is then a fork away from serving,
instead of importing the URLconf and every view on its first request.
"""

from django.urls import get_resolver

from shop.wsgi import application

get_resolver().url_patterns  # noqa: B018 - imports the URLconf, the views and DRF

__all__ = ["application"]
