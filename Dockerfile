# syntax=docker/dockerfile:1
# Production image: one image for every role, the command picks it (docker-compose.yml and
# deploy/k8s run exactly these):
#   web       gunicorn -c gunicorn.conf.py shop.wsgi                 (the default CMD)
#   worker    python manage.py db_worker --queue-name "*" --no-reload
#   jobs      python manage.py migrate --noinput | release_expired_holds | recover_checkouts | ...
#
#   docker build -t shop .
#   docker run -e SECRET_KEY=... -e DATABASE_URL=postgres://... -e SHOP_PAYMENT_GATEWAY=... \
#       -p 8000:8000 shop
#
# Two stages: `build` installs the locked dependencies and the project into a virtualenv and
# collects the static files; the final image copies only that virtualenv and the app, so pip's
# leftovers and the build key never reach it.

FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv
WORKDIR /app

# Dependencies first, in their own layer, so code changes do not reinstall them: exactly the
# versions and files of the lock (every file's hash checked; `make lock` refreshes it).
COPY requirements/prod.lock requirements/prod.lock
RUN pip install --require-hashes -r requirements/prod.lock

# The project itself: a regular (not editable) install without the dev extra; its
# dependencies are already there from the lock.
COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Static files are baked into the image. Settings refuse to load without SECRET_KEY when
# DEBUG is off, so the build uses a throwaway key that never reaches the running container
# (and that shop/checks.py refuses, as a published key, should anyone set it at run time).
RUN DEBUG=false SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0123456789 \
    DJANGO_SETTINGS_MODULE=shop.settings PYTHONPATH=/app \
    python manage.py collectstatic --noinput


FROM python:3.11-slim

# PYTHONPATH: the code in /app (next to templates/, static/, manage.py) wins over the installed
# copy, so BASE_DIR is /app whichever way the settings are imported. Nothing is written outside
# /tmp at run time, so the root filesystem can be read-only (deploy/k8s): no bytecode, and
# gunicorn's control socket in XDG_RUNTIME_DIR rather than the (read-only) home directory.
ENV PYTHONDONTWRITEBYTECODE=1 \
    XDG_RUNTIME_DIR=/tmp \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=shop.settings \
    PYTHONPATH=/app \
    PORT=8000

# WeasyPrint (PDF invoices) renders with Pango and the Liberation fonts; nothing else is needed
# at run time (psycopg and Pillow ship their own libraries).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 shop \
    && useradd --system --uid 10001 --gid shop --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin shop

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# Local uploads (STORAGE_BACKEND=local) go to /app/media, a volume; everything else is
# read-only for the app user.
RUN mkdir -p /app/media && chown shop:shop /app/media

USER shop
EXPOSE 8000

# Talks to the app as a client would: a Host from ALLOWED_HOSTS and the proxy's HTTPS header,
# so neither host validation nor SECURE_SSL_REDIRECT gets in the way. Fails on any non-2xx.
# (Kubernetes ignores it and uses the probes of deploy/k8s/base/web.yaml.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; hosts = [h.strip().lstrip('.') for h in os.environ.get('ALLOWED_HOSTS', 'localhost').split(',') if h.strip() not in ('', '*')]; req = u.Request('http://127.0.0.1:%s/api/health/' % os.environ.get('PORT', '8000'), headers={'Host': (hosts or ['localhost'])[0], 'X-Forwarded-Proto': 'https'}); u.urlopen(req, timeout=4)"]

# Migrations run once per deploy, not in every web replica: docker-compose has a one-shot
# `migrate` service and Kubernetes the shop-migrate Job, both `python manage.py migrate
# --noinput`, that web and worker wait for.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "shop.wsgi"]
