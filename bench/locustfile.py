"""Locust scenarios for `make bench` (bench/run.py picks one user class per run).

    PathsUser     GETs the paths listed in $BENCH_PATHS_FILE in turn (read-only scenarios,
                  used when wrk is not installed or BENCH_TOOL=locust)
    CheckoutUser  a signed-in buyer (JWT prepared by bench/run.py) looping: add one unit to
                  the cart and place the order (POST /api/v1/orders/, a unique
                  Idempotency-Key, payment tok_success).

The checkout throughput is the "POST /api/v1/orders/" row of the stats: orders per second.
"""

import itertools
import json
import os
import random
import uuid

from locust import HttpUser, constant, task

ORDER_NAME = "POST /api/v1/orders/"
SHIPPING_ADDRESS = {
    "full_name": "Bench Shopper",
    "line1": "1 Load Street",
    "line2": "",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
    "phone": "+15555550100",
}


def _read_lines(name: str) -> list[str]:
    path = os.environ.get(name)
    if not path:
        return []
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip()]


class PathsUser(HttpUser):
    """Closed loop, no think time: each user requests the next path as soon as it can."""

    wait_time = constant(0)
    paths = _read_lines("BENCH_PATHS_FILE")

    def on_start(self):
        self._paths = itertools.cycle(self.paths[random.randrange(len(self.paths)) :] + self.paths)

    @task
    def get(self):
        path = next(self._paths)
        # One stats row for the scenario, whatever the slug or page.
        self.client.get(path, name=os.environ.get("BENCH_SCENARIO", "GET"))


class CheckoutUser(HttpUser):
    """A signed-in buyer placing one-item orders back to back.

    Accounts and JWTs are made before the clock starts (bench/run.py), so the run measures
    checkout, not password hashing: $BENCH_CHECKOUT_FILE holds {"skus": [...], "tokens": [...]}.
    """

    wait_time = constant(0)
    _next_buyer = itertools.count()

    def on_start(self):
        with open(os.environ["BENCH_CHECKOUT_FILE"]) as handle:
            setup = json.load(handle)
        self.skus = setup["skus"]
        tokens = setup["tokens"]
        access = tokens[next(self._next_buyer) % len(tokens)]
        self.client.headers["Authorization"] = f"Bearer {access}"

    @task
    def buy_one_item(self):
        added = self.client.post(
            "/api/v1/cart/items/",
            json={"sku": random.choice(self.skus), "quantity": 1},
            name="POST /api/v1/cart/items/",
        )
        if not added.ok:
            return
        self.client.post(
            "/api/v1/orders/",
            json={"shipping_address": SHIPPING_ADDRESS, "payment_token": "tok_success"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
            name=ORDER_NAME,
        )
