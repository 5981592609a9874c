"""The base of every domain exception.

Each app declares its stable error codes in its own ``errors.py`` and raises subclasses of
:class:`DomainError`. The API exception handler turns them into ``{"code", "detail", ...}``
with ``status_code``; HTML views show ``detail`` as a message.
"""


class DomainError(Exception):
    """A business rule said no. ``code`` is stable and documented; ``detail`` is for humans."""

    code: str = "error"
    status_code: int = 400
    default_detail: str = "The request could not be completed."

    def __init__(self, detail: str | None = None, **extra) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        super().__init__(self.detail)

    def as_dict(self) -> dict:
        """Return the API error body for this exception."""
        return {"code": self.code, "detail": self.detail, **self.extra}
