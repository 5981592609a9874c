"""Settings of the benchmark server only: production settings plus the bare-Django ceiling page.

``bench/run.py`` starts gunicorn with ``DJANGO_SETTINGS_MODULE=bench.settings``. Everything is
``shop.settings.base`` (production, read from the environment); only the URLconf adds
``/bench/ceiling/`` (bench.urls) and the template directory holds its template. Production
never loads this module, so the ceiling page is not in production URLs.
"""

from shop.settings.base import *  # noqa: F403
from shop.settings.base import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0].get("DIRS", []), BASE_DIR / "bench" / "templates"]
