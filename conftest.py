"""Project-wide pytest fixtures."""

import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` exercise row locks and constraints SQLite does not have.

    They run whenever DATABASE_URL points at PostgreSQL (CI always does). On SQLite they are
    deselected with a visible reason instead of silently passing.
    """
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"
