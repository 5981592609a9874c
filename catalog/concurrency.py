"""Optimistic concurrency for catalogue rows: versions, ETags and stale-save checks.

Every write through ``catalog.services`` locks the row, compares the version the caller read
(when it says) and raises it by one. The API exposes it as an ``ETag`` and reads it back from
``If-Match``; admin change forms carry it in a hidden field (``VersionedFormMixin``).
"""

import re
from typing import Any

from django import forms
from django.db import models

from catalog.errors import StaleVersion

_ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')
#: A version no row ever has: what an unparseable ``If-Match`` compares as (so it fails).
NO_VERSION = -1


def etag(version: int) -> str:
    """Return the ``ETag`` header value of a row at ``version``."""
    return f'"{version}"'


def version_from_if_match(header: str | None) -> int | None:
    """Return the version an ``If-Match`` header asks for; ``None`` when there is no check.

    ``None`` for a missing header or ``*``; ``NO_VERSION`` (never current) for a value that is
    not one of our ETags, so the write answers ``412`` rather than going through unchecked.
    """
    if header is None or header.strip() == "*":
        return None
    for tag in header.split(","):
        match = _ETAG.match(tag.strip())
        if match:
            return int(match.group(1))
    return NO_VERSION


def claim_version(*, obj: models.Model, expected_version: int | None) -> int:
    """Lock ``obj``'s row, check its version and set ``obj.version`` to the next one.

    Call it inside the transaction that saves ``obj`` (``select_for_update``: a concurrent
    writer waits, then sees the new version). Raises ``StaleVersion`` when
    ``expected_version`` is given and is not the row's current version. Return the new
    version (saved with the row by the caller's ``save()``).
    """
    model = type(obj)
    current = model._default_manager.select_for_update().values_list("version", flat=True)
    version: int = current.get(pk=obj.pk)
    if expected_version is not None and expected_version != version:
        raise StaleVersion(version)
    obj.version = version + 1  # type: ignore[attr-defined]
    return obj.version  # type: ignore[attr-defined]


class VersionedFormMixin(forms.ModelForm):
    """A model form that refuses a stale save, for models with a ``version`` field.

    Adds the hidden field ``edit_version`` (the version the page was rendered with). In
    ``clean()`` it locks the row (the admin validates and saves in one transaction, so the
    lock holds until the save commits) and, when someone saved meanwhile, adds a form error
    naming the fields they changed; otherwise the instance is saved with the next version.
    """

    edit_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["edit_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        posted = cleaned.get("edit_version")
        try:
            claim_version(obj=self.instance, expected_version=posted)
        except StaleVersion:
            current = type(self.instance)._default_manager.get(pk=self.instance.pk)
            saved = forms.models.model_to_dict(current)
            differing = [
                f"{self.fields[name].label or name}: {saved[name]!s:.60}"
                for name in self.fields
                if name in saved
                and name in cleaned
                and self.fields[name].prepare_value(cleaned[name])
                != self.fields[name].prepare_value(saved[name])
            ]
            what = f" Saved now: {'; '.join(differing)}." if differing else ""
            raise forms.ValidationError(
                "Someone else saved this %(model)s after you opened it.%(what)s Reload the page "
                "to see their changes, then make yours again.",
                code="stale",
                params={"model": self.instance._meta.verbose_name, "what": what},
            ) from None
        return cleaned
