"""django-axes hooks: count sign-in failures per email address, whatever its letter case."""

from accounts.services import normalize_email


def lockout_username(request, credentials: dict | None) -> str | None:
    """Return the lower-cased email a sign-in attempt is for (``AXES_USERNAME_CALLABLE``).

    Covers our forms and API (``email``) and Django's admin login form (``username``).
    """
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if value is None and request is not None:
        post = getattr(request, "POST", {})
        value = post.get("email") or post.get("username")
    if not isinstance(value, str):
        return None
    return normalize_email(email=value) or None
