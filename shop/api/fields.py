"""Serializer fields shared by the apps' APIs."""

from rest_framework import serializers

MAX_SLUG_LENGTH = 255


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's ``SlugRelatedField`` that answers ``400 does_not_exist`` for a value that cannot be
    a slug (not a string, too long, or holding a NUL byte, which PostgreSQL refuses in a query
    with a server error) before it reaches the database."""

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data or len(data) > MAX_SLUG_LENGTH:
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:80])
        return super().to_internal_value(data)
