"""Fast settings for the test suite (cookiecutter-django style)."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

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
        "QUEUES": ["default", "email"],
    }
}
# Generous limits so ordinary tests never trip them; throttling tests override these.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon_write": "10000/min", "user_write": "10000/min"},
}
# The same for the per-client form limits (shop/ratelimits.py).
RATELIMIT_LOGIN = RATELIMIT_REGISTER = RATELIMIT_PASSWORD_RESET = "10000/m"
RATELIMIT_ADD_TO_CART = "10000/m"
SECURE_SSL_REDIRECT = False
SHOP_PAYMENT_RETRY_BASE_DELAY = 0
