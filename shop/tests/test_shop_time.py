"""Times on pages and in emails: in the shop's time zone, followed by its name."""

import datetime as dt

from django.utils import timezone

from shop.templatetags.shop_tags import shop_datetime

NOON_UTC = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)


def test_a_time_is_shown_in_the_shop_zone_with_its_abbreviation():
    with timezone.override("America/New_York"):
        assert shop_datetime(NOON_UTC) == "1 Jul 2026, 08:00 EDT"


def test_a_zone_without_an_abbreviation_is_named_in_full():
    with timezone.override("Asia/Dubai"):
        assert shop_datetime(NOON_UTC, "H:i") == "16:00 Asia/Dubai"


def test_utc_and_non_times():
    with timezone.override("UTC"):
        assert shop_datetime(NOON_UTC, "H:i") == "12:00 UTC"
    assert shop_datetime(None) == ""
    assert shop_datetime("2026-07-01") == ""
