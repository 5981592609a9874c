"""Settings for every environment, read from environment variables (django-environ).

Defaults fail closed: DEBUG is off unless DEBUG=true (`make run` and the test settings set
development mode explicitly). With DEBUG off the app refuses to start without SECRET_KEY, and
the system checks of shop/checks.py refuse a public SECRET_KEY, the mock payment gateway and
SQLite unless explicitly allowed.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "django-insecure-dev-only-key-change-me"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is false. Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' "
            "(for local development set DEBUG=true instead, as `make run` does)."
        )
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "shop.apps.ShopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "axes",
    "django_countries",
    "import_export",
    "django_tasks",
    "django_tasks_db",
    "shop",
    "easy_thumbnails",
    "accounts",
    "catalog",
    "inventory",
    "cart",
    "orders",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shop.client_ip.ClientIpMiddleware",
    "shop.middleware.RequestIdMiddleware",
    "shop.middleware.RejectNullBytesMiddleware",
    "shop.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cart.middleware.CartTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.MustChangePasswordMiddleware",
    # Axes must be last: it turns lockouts raised by authenticate() into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shop.urls"
CSRF_FAILURE_VIEW = "shop.views.csrf_failure"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.shop",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: a new PostgreSQL connection (TCP, auth, a forked backend) cost more
# than a whole cached page (README, "Benchmark"). Each sync worker holds one. Health checks
# (a `SELECT 1` before each request's first query) are off by default: they cost a round trip
# per request; without them a database restart fails one request per worker, after which
# Django drops the broken connection.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer lock instead of failing at once under concurrent requests.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://shop?max_entries=5000")}
# The cache is a copy, never the only one: when Redis is down the shop carries on without it
# (shop.cache). Fail fast so an outage does not hang requests; ?socket_timeout=... in
# CACHE_URL overrides these.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"].setdefault("OPTIONS", {})
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", 0.25)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", 0.5)

AUTH_USER_MODEL = "accounts.User"
# Email uniqueness is enforced case-insensitively by a functional UniqueConstraint.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Sign-in lockout (django-axes, accounts/lockout.py). LOGIN_MAX_FAILURES failed sign-ins lock
# one (account, client IP) pair only: others at that address still sign in, and nobody else
# can lock the owner out. LOGIN_IP_MAX_FAILURES failures from one IP over all accounts
# (password spraying) lock that IP for everyone. Failures during a lockout do not extend it;
# a password reset through the emailed link clears the account's lockouts.
AXES_FAILURE_LIMIT = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_IP_MAX_FAILURES = env.int("LOGIN_IP_MAX_FAILURES", default=50)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "accounts.lockout.PairLockoutHandler"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "email"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# How many reverse proxies append to X-Forwarded-For in front of the app (shop.client_ip).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "shop.client_ip.client_ip"
# Count failures per lower-cased email so "Bob@x" and "bob@x" share one counter.
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
# Per-client (client IP) limits of the HTML forms and their API endpoints (shop/ratelimits.py),
# counted in the cache; "N/s", "N/m", "N/h" or "N/d". A cache outage lets requests through.
RATELIMIT_LOGIN = env.str("RATELIMIT_LOGIN", default="20/m")
RATELIMIT_REGISTER = env.str("RATELIMIT_REGISTER", default="10/h")
RATELIMIT_PASSWORD_RESET = env.str("RATELIMIT_PASSWORD_RESET", default="5/h")
RATELIMIT_ADD_TO_CART = env.str("RATELIMIT_ADD_TO_CART", default="60/m")
RATELIMIT_FAIL_OPEN = True
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)

LANGUAGE_CODE = "en-us"
# The shop's time zone (an IANA name): pages and emails show times in it, with its name.
SHOP_TIME_ZONE = env.str("SHOP_TIME_ZONE", default="UTC")
TIME_ZONE = SHOP_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded files (product and category images, their thumbnails): on local disk, served by the
# app itself at MEDIA_URL (shop.media), or in S3-compatible object storage (django-storages),
# chosen with STORAGE_BACKEND; setting a bucket name alone also chooses S3.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="") or (
    "s3" if AWS_STORAGE_BUCKET_NAME else "local"
)
_media_img_src = ""  # the object storage's origin, added to the CSP's img-src below
if STORAGE_BACKEND == "local":
    _default_storage: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif STORAGE_BACKEND == "s3":
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
    _s3 = {
        "bucket_name": AWS_STORAGE_BUCKET_NAME,
        # Empty: boto3's own credential chain (instance role, ~/.aws, AWS_* variables).
        "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
        "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
        "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
        "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
        "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=True),
        "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=3600),
        "signature_version": "s3v4",  # the one every S3 implementation accepts (R2: the only)
        # Two uploads called "photo.jpg" must not replace each other.
        "file_overwrite": False,
        "object_parameters": {"CacheControl": "public, max-age=86400"},
    }
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3}
    if _s3["custom_domain"]:
        _media_img_src = f" https://{_s3['custom_domain']}"
    elif _s3["endpoint_url"]:
        _endpoint = urlsplit(_s3["endpoint_url"])
        _media_img_src = (
            f" {_endpoint.scheme}://{_endpoint.netloc}"
            f" {_endpoint.scheme}://{AWS_STORAGE_BUCKET_NAME}.{_endpoint.netloc}"
        )
    else:
        _media_img_src = f" https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com" + (
            f" https://{AWS_STORAGE_BUCKET_NAME}.s3.{_s3['region_name']}.amazonaws.com"
            if _s3["region_name"]
            else ""
        )
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be local or s3, not {STORAGE_BACKEND!r}.")
# Thumbnails (easy-thumbnails) at the sizes the pages show, each also made at twice the size
# for srcset 2x. catalog.thumbnails makes them once (on upload, `generate_thumbnails`) and
# names them from the source name and options, so rendering a page needs no lookup.
THUMBNAIL_ALIASES = {
    "catalog.ProductImage.image": {
        "card": {"size": (300, 300), "crop": "smart"},  # product cards (grid, home)
        "main": {"size": (600, 600), "crop": "smart"},  # product page
        "gallery": {"size": (96, 96), "crop": "smart"},  # product page thumbnails
        "line": {"size": (72, 72), "crop": "smart"},  # cart and checkout lines
    },
    "catalog.Category.image": {"tile": {"size": (240, 160), "crop": "smart"}},
}
THUMBNAIL_BASEDIR = "thumbs"
THUMBNAIL_EXTENSION = THUMBNAIL_TRANSPARENCY_EXTENSION = "webp"
THUMBNAIL_SOURCE_GENERATORS = ["easy_thumbnails.source_generators.pil_image"]  # no SVG
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: console in development, SMTP (e.g. smtp://mailpit:1025) via EMAIL_URL.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Django Shop <shop@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SHOP_REPLY_TO = env.str("SHOP_REPLY_TO", default="support@example.com")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# Background work (Django tasks API). Development runs tasks inline; production uses the
# database backend and `manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": env.str(
            "TASKS_BACKEND", default="django_tasks.backends.immediate.ImmediateBackend"
        ),
        "QUEUES": ["default", "email", "webhooks"],
    }
}

# Security: on by default whenever DEBUG is off.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:{_media_img_src}; font-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
        "accounts.permissions.PasswordChangeNotRequired",
    ],
    "DEFAULT_PAGINATION_CLASS": "shop.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "shop.api.throttling.AnonWriteThrottle",
        "shop.api.throttling.UserWriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon_write": env.str("THROTTLE_ANON_RATE", default="60/min"),
        "user_write": env.str("THROTTLE_USER_RATE", default="600/min"),
    },
    # Our throttles use shop.client_ip; DRF's own would trust the same number of proxies.
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "shop.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "COERCE_DECIMAL_TO_STRING": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "REST API of the shop for mobile clients and integrations (see API.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "SERVE_AUTHENTICATION": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop.api.schema.document_url_guard",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "ProductStatusEnum": "catalog.models.ProductStatus",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# CSV/XLSX import and export in the admin (django-import-export). Importing needs the model's
# "add" permission, exporting its "view" one; an import is previewed (dry run, in a rolled-back
# transaction) and written only when confirmed without row errors.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
# Cells starting with =, +, - or @ are escaped in exports (no formulas from customer data).
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# Shop behaviour.
SHOP_NAME = env.str("SHOP_NAME", default="Django Shop")
# Where customers send returns (shown and emailed when they request one); ", " separates lines.
SHOP_RETURN_ADDRESS = env.str(
    "SHOP_RETURN_ADDRESS", default="Returns, 1 Warehouse Way, London N1 9GU, United Kingdom"
)
# The seller on invoices and credit notes (orders.invoices): legal name, postal address
# (", " separates the lines) and tax id (VAT number, EIN, ...).
SHOP_LEGAL_NAME = env.str("SHOP_LEGAL_NAME", default=SHOP_NAME)
SHOP_LEGAL_ADDRESS = env.str("SHOP_LEGAL_ADDRESS", default="")
SHOP_TAX_ID = env.str("SHOP_TAX_ID", default="")
SHOP_BASE_URL = env.str("SHOP_BASE_URL", default="http://127.0.0.1:8000")
SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="USD")
SHOP_RESERVATION_TTL = env.int("SHOP_RESERVATION_TTL", default=900)
# Stock holds (README glossary, "Hold"): carts holding stock at once per client IP, units one
# cart may hold, and holds one cart may start per hour (0 turns holds off).
SHOP_MAX_HOLDS_PER_IP = env.int("SHOP_MAX_HOLDS_PER_IP", default=3)
SHOP_MAX_HELD_UNITS_PER_CART = env.int("SHOP_MAX_HELD_UNITS_PER_CART", default=20)
SHOP_MAX_HOLDS_PER_CART_PER_HOUR = env.int("SHOP_MAX_HOLDS_PER_CART_PER_HOUR", default=2)
# Shopper catalog reads (product list/detail, category pages) are cached this long, keyed by a
# catalog version bumped on every product or stock change; 0 disables the cache.
SHOP_CATALOG_CACHE_SECONDS = env.int("SHOP_CATALOG_CACHE_SECONDS", default=30)
SHOP_LOW_STOCK_THRESHOLD = env.int("SHOP_LOW_STOCK_THRESHOLD", default=5)
SHOP_SHIPPING_FLAT_RATE = env.str("SHOP_SHIPPING_FLAT_RATE", default="5.00")
SHOP_FREE_SHIPPING_THRESHOLD = env.str("SHOP_FREE_SHIPPING_THRESHOLD", default="50.00")
# ISO 3166-1 alpha-2 codes of the countries the shop ships to, in the order the address forms'
# country select lists them first (every other country follows, sorted by name).
SHOP_SHIPPING_COUNTRIES = env.list(
    "SHOP_SHIPPING_COUNTRIES", default=["US", "GB", "DE", "FR", "CA"]
)
# django-countries puts the same countries first wherever it lists countries itself.
COUNTRIES_FIRST = SHOP_SHIPPING_COUNTRIES
SHOP_TAX_RATE = Decimal(env.str("SHOP_TAX_RATE", default="0"))
# Whether catalogue prices include tax (EU style) or tax is added on top (US style, default).
SHOP_PRICES_INCLUDE_TAX = env.bool("SHOP_PRICES_INCLUDE_TAX", default=False)
SHOP_PAYMENT_GATEWAY = env.str(
    "SHOP_PAYMENT_GATEWAY", default="orders.payments.gateways.MockGateway"
)
# Stripe (SHOP_PAYMENT_GATEWAY=orders.payments.stripe.StripeGateway; README "Going live with
# Stripe"). STRIPE_API_BASE points the library elsewhere (tests: a local stand-in).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=20.0)
# The Stripe.js the checkout page loads when the Stripe adapter is active (tests: the stand-in's).
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
# Seconds an order may wait in pending_payment (3-D Secure) before cancel_expired_payments
# cancels it and releases its stock.
SHOP_PAYMENT_TIMEOUT = env.int("SHOP_PAYMENT_TIMEOUT", default=1800)
# Days a draft order's payment link works (orders.drafts); cancel_expired_payments then
# cancels the order and releases its stock.
SHOP_PAYMENT_LINK_DAYS = env.int("SHOP_PAYMENT_LINK_DAYS", default=7)
# Fail closed (shop/checks.py): with DEBUG=false start-up refuses the mock gateway and SQLite
# unless these explicit opt-ins say otherwise.
SHOP_ALLOW_TEST_PAYMENTS = env.bool("SHOP_ALLOW_TEST_PAYMENTS", default=False)
SHOP_ALLOW_SQLITE = env.bool("SHOP_ALLOW_SQLITE", default=False)
# seed_shop creates the admin@shop.com superuser with this password; unset, only with DEBUG=true
# (demo password) and production uses `createsuperuser`.
SHOP_SEED_ADMIN_PASSWORD = env.str("SHOP_SEED_ADMIN_PASSWORD", default="")
# Customers may open a return this many days after delivery (API: 400 return_window_closed).
SHOP_RETURN_WINDOW_DAYS = env.int("SHOP_RETURN_WINDOW_DAYS", default=30)
SHOP_COURIER = env.str("SHOP_COURIER", default="orders.fulfilment.couriers.MockCourier")
SHOP_STAFF_EMAILS = env.list("SHOP_STAFF_EMAILS", default=[])
# Outgoing webhooks: private/loopback targets and plain http only when allowed (dev, tests).
SHOP_WEBHOOKS_ALLOW_PRIVATE = env.bool("SHOP_WEBHOOKS_ALLOW_PRIVATE", default=False)
SHOP_WEBHOOK_DISABLE_AFTER_DAYS = env.int("SHOP_WEBHOOK_DISABLE_AFTER_DAYS", default=3)
SHOP_WEBHOOK_TIMEOUT = env.float("SHOP_WEBHOOK_TIMEOUT", default=10.0)

# Shopper features (catalog.reviews, catalog.alerts, cart.reminders).
SHOP_REVIEWS_MODERATED = env.bool("SHOP_REVIEWS_MODERATED", default=True)
SHOP_REVIEWS_PER_HOUR = env.int("SHOP_REVIEWS_PER_HOUR", default=5)
SHOP_STOCK_ALERT_BATCH = env.int("SHOP_STOCK_ALERT_BATCH", default=50)
SHOP_STOCK_ALERT_DAYS = env.int("SHOP_STOCK_ALERT_DAYS", default=90)
SHOP_CART_REMINDER_HOURS = env.int("SHOP_CART_REMINDER_HOURS", default=24)
SHOP_IDEMPOTENCY_TTL_HOURS = env.int("SHOP_IDEMPOTENCY_TTL_HOURS", default=24)
# A checkout whose request died (killed worker) frees its Idempotency-Key after this long;
# keep it above the longest a request may run (GUNICORN_TIMEOUT). API.md: at most 2 minutes.
SHOP_IDEMPOTENCY_LEASE_SECONDS = env.int("SHOP_IDEMPOTENCY_LEASE_SECONDS", default=120)
# Gateway retries: at most 3 attempts, waiting base, 2*base seconds between them.
SHOP_PAYMENT_RETRY_BASE_DELAY = env.float("SHOP_PAYMENT_RETRY_BASE_DELAY", default=0.5)
# A notification stuck in "sending" this long (a worker died mid-send) is retried.
NOTIFICATIONS_CLAIM_TIMEOUT = env.int("NOTIFICATIONS_CLAIM_TIMEOUT", default=600)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "text": one line per record; "json": one JSON object per line (for log collectors).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # request_id, trace_id and span_id on every record ("-" outside a request / a trace).
    "filters": {"request_id": {"()": "shop.middleware.RequestIdLogFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
            " trace_id=%(trace_id)s span_id=%(span_id)s",
        },
        "json": {"()": "shop.telemetry.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # PDF invoices: WeasyPrint logs every rendering step and font subset at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "shop.requests": {"level": LOG_LEVEL, "propagate": True},
    },
}
