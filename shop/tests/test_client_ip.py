import pytest
from django.test import RequestFactory

from shop.client_ip import client_ip


def _request(remote: str = "203.0.113.9", xff: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.NUM_PROXIES = 0
    assert client_ip(_request(xff="1.1.1.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("xff", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client-written entry is skipped
        ("", "203.0.113.9"),
        ("not-an-ip", "203.0.113.9"),
    ],
)
def test_one_trusted_proxy_takes_the_rightmost_forwarded_entry(settings, xff, expected):
    settings.NUM_PROXIES = 1
    assert client_ip(_request(xff=xff)) == expected


def test_two_trusted_proxies_take_the_second_entry_from_the_right(settings):
    settings.NUM_PROXIES = 2
    assert client_ip(_request(xff="6.6.6.6, 198.51.100.7, 10.0.0.2")) == "198.51.100.7"


def test_the_middleware_sets_client_ip_on_every_request(client, settings):
    settings.NUM_PROXIES = 1
    response = client.get("/api/ping/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.wsgi_request.client_ip == "198.51.100.7"
