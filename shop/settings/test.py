"""Fast settings for the test suite (cookiecutter-django style).

The suite runs with DEBUG False (pytest-django sets it, as production has it), so nothing here
may depend on DEBUG: the development behaviour the tests expect is set explicitly below,
whether or not the environment says DEBUG=true.
"""

import os
import secrets

# base.py refuses to load without SECRET_KEY when DEBUG is off (its default). A random key per
# test session, shared with the suite's subprocesses through the environment they inherit.
if not os.environ.get("SECRET_KEY"):
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)

from .base import *  # noqa: E402, F403
from .base import REST_FRAMEWORK  # noqa: E402

# Development behaviour, explicitly (production derives these from DEBUG=false).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
# The fail-closed checks (shop/checks.py) see DEBUG False under pytest: the suite is a
# deliberate user of the mock gateway and of SQLite.
SHOP_ALLOW_TEST_PAYMENTS = True
SHOP_ALLOW_SQLITE = True

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "email", "webhooks"],
    }
}
# Generous limits so ordinary tests never trip them; throttling tests override these.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon_write": "10000/min", "user_write": "10000/min"},
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
# The same for the per-client form limits (shop/ratelimits.py).
RATELIMIT_LOGIN = RATELIMIT_REGISTER = RATELIMIT_PASSWORD_RESET = "10000/m"
RATELIMIT_ADD_TO_CART = "10000/m"
SHOP_PAYMENT_RETRY_BASE_DELAY = 0
