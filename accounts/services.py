"""Every write the accounts app makes: sign-up, passwords, profile and the address book."""

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import lockout, signals
from accounts.addresses.rules import ADDRESS_FIELD_NAMES, normalize_country
from accounts.errors import AccountErrorCode
from accounts.models import Address, User

INVALID_RESET_MESSAGE = "This password reset link is invalid or has expired."


def normalize_email(*, email: str) -> str:
    """Return the canonical (trimmed, lower-case) form of an email address."""
    return (email or "").strip().lower()


def _validate_new_password(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from exc


def revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding JWT refresh token of ``user``; return how many were revoked.

    Access tokens stay valid until they expire (they are short-lived and stateless).
    """
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = [BlacklistedToken(token=token) for token in outstanding]
    BlacklistedToken.objects.bulk_create(revoked, ignore_conflicts=True)
    return len(revoked)


def register_user(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    """Create an active customer account and return it.

    The email is stored lower-cased and must not belong to another account (compared
    case-insensitively); the password must pass ``AUTH_PASSWORD_VALIDATORS``. Raises
    ``ValidationError`` keyed by ``email`` or ``password``. Sends ``user_registered`` inside
    the transaction (its receivers' errors roll the sign-up back).
    """
    email = normalize_email(email=email)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            {
                "email": ValidationError(
                    "An account with this email already exists.", AccountErrorCode.EMAIL_TAKEN
                )
            }
        )
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    _validate_new_password(password, user=user, field="password")
    user.set_password(password)
    with transaction.atomic():
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
            raise ValidationError(
                {
                    "email": ValidationError(
                        "An account with this email already exists.", AccountErrorCode.EMAIL_TAKEN
                    )
                }
            ) from exc
        # Inside the transaction: the welcome email's outbox row commits with the account.
        signals.user_registered.send(sender=User, user_id=user.pk)
    return user


def ensure_superuser(*, email: str, password: str, must_change_password: bool = True) -> bool:
    """Create a superuser with ``email`` unless an account with that email exists.

    Return whether one was created. Used by ``seed_shop`` for the demo admin.
    """
    if User.objects.filter(email__iexact=normalize_email(email=email)).exists():
        return False
    User.objects.create_superuser(
        email=email, password=password, must_change_password=must_change_password
    )
    return True


def update_profile(
    *, user: User, first_name: str | None = None, last_name: str | None = None
) -> User:
    """Change the user's names (only the ones given) and return the user."""
    changed = []
    if first_name is not None:
        user.first_name = first_name.strip()
        changed.append("first_name")
    if last_name is not None:
        user.last_name = last_name.strip()
        changed.append("last_name")
    if changed:
        user.save(update_fields=changed)
    return user


def check_current_password(*, user: User, password: str) -> None:
    """Check that ``password`` is the user's current password.

    Raises ``ValidationError`` keyed by ``old_password`` (code ``wrong_password``) if not.
    """
    if not user.check_password(password):
        raise ValidationError(
            {
                "old_password": ValidationError(
                    "Your current password is incorrect.", AccountErrorCode.WRONG_PASSWORD
                )
            }
        )


def change_password(*, user: User, old_password: str, new_password: str) -> User:
    """Replace the user's password after checking the current one; return the user.

    Clears ``must_change_password`` and revokes the user's JWT refresh tokens (other devices
    must sign in again). Raises ``ValidationError`` keyed by ``old_password`` (wrong password)
    or ``new_password`` (fails the password validators). HTML callers should call
    ``update_session_auth_hash`` afterwards to keep the current session.
    """
    check_current_password(user=user, password=old_password)
    _validate_new_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        _set_password(user, new_password)
    return user


def _set_password(user: User, new_password: str) -> None:
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    revoke_refresh_tokens(user=user)


def password_reset_path(*, uid: str, token: str) -> str:
    """Return the path of the HTML page where a reset link lands."""
    return reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def request_password_reset(*, email: str, base_url: str) -> User | None:
    """Start a password reset for the active account with ``email``, if there is one.

    Never reveals whether the account exists: returns the user or ``None`` and raises
    nothing about the account. For an existing active user, sends
    ``password_reset_requested(user_id, uid, token, reset_url)`` inside a transaction: the
    notifications app records the email there (a failure to record it is raised, not
    swallowed) and delivers it after commit. ``base_url`` must be a trusted origin
    (``settings.SHOP_BASE_URL``), never the request's Host header.
    """
    user = User.objects.filter(email__iexact=normalize_email(email=email), is_active=True).first()
    if user is None:
        return None
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    reset_url = f"{base_url.rstrip('/')}{password_reset_path(uid=uid, token=token)}"
    with transaction.atomic():
        signals.password_reset_requested.send(
            sender=User, user_id=user.pk, uid=uid, token=token, reset_url=reset_url
        )
    return user


def get_user_for_reset(*, uid: str, token: str) -> User | None:
    """Return the active user a reset ``uid``/``token`` pair belongs to, or ``None``."""
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        user = User.objects.get(pk=int(pk), is_active=True)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None
    if not default_token_generator.check_token(user, token):
        return None
    return user


def confirm_password_reset(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password from a reset link and return the user.

    The token is single-use (it is bound to the old password hash) and expires after
    ``PASSWORD_RESET_TIMEOUT``. Clears ``must_change_password``, revokes the user's JWT
    refresh tokens and clears the account's sign-in lockouts (the owner proved control of the
    mailbox, so they can sign in at once, from any address). Raises ``ValidationError`` keyed
    by ``token`` (bad or expired link) or ``new_password``.
    """
    user = get_user_for_reset(uid=uid, token=token)
    if user is None:
        raise ValidationError(
            {"token": ValidationError(INVALID_RESET_MESSAGE, AccountErrorCode.INVALID_RESET_LINK)}
        )
    _validate_new_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        _set_password(user, new_password)
        lockout.clear_account_lockouts(email=user.email)
    return user


def _clean_address_fields(fields: dict[str, str]) -> dict[str, str]:
    unknown = set(fields) - set(ADDRESS_FIELD_NAMES)
    if unknown:
        raise TypeError(f"Unknown address fields: {sorted(unknown)}")
    cleaned = {
        key: value.strip() if isinstance(value, str) else value for key, value in fields.items()
    }
    if "country" in cleaned:
        try:
            cleaned["country"] = normalize_country(cleaned["country"])
        except ValidationError as exc:
            raise ValidationError({"country": exc.error_list}) from exc
    return cleaned


def _lock_address_book(user: User) -> None:
    # Serialize address-book writes per user so "exactly one default" holds under concurrency.
    User.objects.select_for_update().filter(pk=user.pk).first()


def _make_default(address: Address) -> None:
    Address.objects.filter(user_id=address.user_id, is_default=True).exclude(pk=address.pk).update(
        is_default=False
    )
    address.is_default = True


def create_address(*, user: User, is_default: bool = False, **fields: str) -> Address:
    """Add an address to the user's book and return it.

    The first address always becomes the default; ``is_default=True`` moves the default to
    the new address. Runs in one transaction holding a lock on the user row. Raises
    ``ValidationError`` keyed by ``country`` for an unknown country code.
    """
    cleaned = _clean_address_fields(fields)
    with transaction.atomic():
        _lock_address_book(user)
        address = Address(user=user, **cleaned)
        address.full_clean(exclude=["user", "is_default"])
        if is_default or not Address.objects.filter(user=user).exists():
            _make_default(address)
        address.save()
    return address


def remember_address(*, user: User, **fields: str) -> Address:
    """Return the entry of the user's address book equal to ``fields`` (every address field,
    as ``accounts.addresses.rules.clean_address`` returns them), adding it first when the book
    has none: an address typed at checkout and saved again is not stored twice.

    A new entry follows ``create_address`` (the first address becomes the default). Runs in
    one transaction holding the lock on the user row, so two concurrent saves add it once.
    Raises ``ValidationError`` as ``create_address`` does.
    """
    cleaned = _clean_address_fields(fields)
    with transaction.atomic():
        _lock_address_book(user)
        existing = Address.objects.filter(user=user, **cleaned).order_by("pk").first()
        if existing is not None:
            return existing
        return create_address(user=user, is_default=False, **cleaned)


def update_address(*, address: Address, is_default: bool | None = None, **fields: str) -> Address:
    """Change the given fields of ``address`` and return it.

    ``is_default=True`` makes it the default (the previous default is unset in the same
    transaction). Unsetting the default directly is refused with ``ValidationError`` keyed by
    ``is_default``: mark another address as default instead, so there is always exactly one.
    """
    cleaned = _clean_address_fields(fields)
    with transaction.atomic():
        _lock_address_book(address.user)
        address.refresh_from_db(fields=["is_default"])
        for key, value in cleaned.items():
            setattr(address, key, value)
        address.full_clean(exclude=["user", "is_default"])
        if is_default:
            _make_default(address)
        elif is_default is False and address.is_default:
            raise ValidationError(
                {
                    "is_default": ValidationError(
                        "Mark another address as default instead.",
                        AccountErrorCode.DEFAULT_ADDRESS_REQUIRED,
                    )
                }
            )
        address.save()
    return address


def delete_address(*, address: Address) -> None:
    """Delete ``address``; if it was the default, the newest remaining address becomes default."""
    with transaction.atomic():
        _lock_address_book(address.user)
        was_default = Address.objects.filter(pk=address.pk, is_default=True).exists()
        user_id = address.user_id
        address.delete()
        if was_default:
            successor = (
                Address.objects.filter(user_id=user_id).order_by("-created_at", "-id").first()
            )
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default"])
