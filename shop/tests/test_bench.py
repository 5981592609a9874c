"""The benchmark's own parts (bench/): the ceiling page, its URLconf, the profile summary.

`make bench` itself prints numbers and asserts none; these check that what it measures is what
it says: the ceiling page is plain Django (one query, 20 rows) served only by the benchmark's
URLconf, never by the shop's.
"""

import copy

import pytest
from django.conf import settings
from django.test import override_settings

from bench.run import SCENARIOS, Catalog, summarize_profile
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _bench_templates():
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], settings.BASE_DIR / "bench" / "templates"]
    return templates


def test_the_shop_does_not_serve_the_ceiling_page(client):
    assert client.get("/bench/ceiling/").status_code == 404


def test_the_ceiling_page_renders_20_products_from_one_query(client, django_assert_num_queries):
    products = ProductFactory.create_batch(25)
    with override_settings(ROOT_URLCONF="bench.urls", TEMPLATES=_bench_templates()):
        with django_assert_num_queries(1):
            response = client.get("/bench/ceiling/")
        # The shop's own URLs still resolve through the benchmark's URLconf.
        assert client.get("/api/ping/").status_code == 200
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<tr><td>") == 20
    assert products[0].slug in body
    assert products[24].slug not in body


def test_scenarios_are_a_registry_with_both_ceilings_first():
    keys = [s.key for s in SCENARIOS]
    assert keys[:2] == ["ceiling", "ping"]
    assert len(keys) == len(set(keys))
    catalog = Catalog(category="shoes", categories=["shoes", "bags"], products=["a", "b"])
    paths = {s.key: s.paths(catalog) for s in SCENARIOS}
    assert paths["category_page"] == ["/c/shoes/", "/c/bags/"]
    assert paths["product_page"] == ["/p/a/", "/p/b/"]
    assert {s.key for s in SCENARIOS if s.page} >= {"ceiling", "landing_page", "product_page"}


def test_profile_summary_ranks_busy_frames_and_leaves_idle_workers_out():
    folded = "\n".join(
        [
            "run (gunicorn/arbiter.py:1);handle (gunicorn/workers/sync.py:2);render (t.py:3) 30",
            "run (gunicorn/arbiter.py:1);handle (gunicorn/workers/sync.py:2);query (db.py:4) 10",
            "run (gunicorn/arbiter.py:1);wait (gunicorn/workers/sync.py:9);select (selectors.py:5) 500",
        ]
    )
    summary = summarize_profile(folded)
    assert summary.startswith("40 busy samples")
    assert "75.0   75.0  render (t.py:3)" in summary
    assert "25.0   25.0  query (db.py:4)" in summary
    assert "select" not in summary
