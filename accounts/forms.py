"""HTML forms of the accounts pages; they validate input, the services make the changes."""

from django import forms
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError

from accounts.errors import AccountErrorCode
from accounts.services import normalize_email

PASSWORD_MAX_LENGTH = 256


class AccessibleFormMixin:
    """Point each invalid input at its error text (``aria-describedby``, ``aria-invalid``)."""

    def full_clean(self):
        super().full_clean()
        self.mark_invalid_fields()

    def mark_invalid_fields(self) -> None:
        """Set ``aria-invalid`` and ``aria-describedby`` on the inputs that have errors."""
        for name in self.errors:
            if name not in self.fields:
                continue
            field = self.fields[name]
            auto_id = self[name].auto_id
            ids = [f"{auto_id}_error"]
            if field.help_text:
                ids.append(f"{auto_id}_helptext")
            field.widget.attrs["aria-invalid"] = "true"
            field.widget.attrs["aria-describedby"] = " ".join(ids)

    def add_service_errors(self, exc: ValidationError, field_map: dict | None = None) -> None:
        """Attach a service's ``ValidationError`` to the matching form fields."""
        field_map = field_map or {}
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            target = field_map.get(name, name)
            self.add_error(target if target in self.fields else None, errors)
        self.mark_invalid_fields()


def password_input(autocomplete: str) -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"autocomplete": autocomplete})


def email_field(**kwargs) -> forms.EmailField:
    return forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        **kwargs,
    )


class LoginForm(AccessibleFormMixin, forms.Form):
    """Email + password; the request is passed to ``authenticate`` so django-axes counts it."""

    email = email_field()
    password = forms.CharField(
        max_length=PASSWORD_MAX_LENGTH, strip=False, widget=password_input("current-password")
    )

    error_messages = {
        "invalid_login": "Enter a correct email address and password.",
        "locked_out": "Too many failed sign-in attempts. Please try again later.",
    }

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)

    @property
    def locked_out(self) -> bool:
        return bool(getattr(self.request, "axes_locked_out", False))

    def clean(self):
        cleaned = super().clean()
        email, password = cleaned.get("email"), cleaned.get("password")
        if email and password:
            self.user = authenticate(
                self.request, email=normalize_email(email=email), password=password
            )
            if self.locked_out:
                raise ValidationError(
                    self.error_messages["locked_out"], code=AccountErrorCode.LOCKED_OUT
                )
            if self.user is None:
                raise ValidationError(
                    self.error_messages["invalid_login"], code=AccountErrorCode.INVALID_LOGIN
                )
        return cleaned


class NewPasswordMixin:
    """Two password inputs that must match (the services run the password validators)."""

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", "The two passwords do not match.")
        return cleaned


def new_password_fields():
    return (
        forms.CharField(
            label="New password",
            max_length=PASSWORD_MAX_LENGTH,
            strip=False,
            widget=password_input("new-password"),
            help_text="At least 8 characters; not too common or entirely numeric.",
        ),
        forms.CharField(
            label="Confirm new password",
            max_length=PASSWORD_MAX_LENGTH,
            strip=False,
            widget=password_input("new-password"),
        ),
    )


class RegisterForm(AccessibleFormMixin, NewPasswordMixin, forms.Form):
    email = email_field()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    new_password1, new_password2 = new_password_fields()

    field_map = {"password": "new_password1"}


class ProfileForm(AccessibleFormMixin, forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)


class PasswordChangeForm(AccessibleFormMixin, NewPasswordMixin, forms.Form):
    old_password = forms.CharField(
        label="Current password",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=password_input("current-password"),
    )
    new_password1, new_password2 = new_password_fields()

    field_map = {"new_password": "new_password1"}


class PasswordResetRequestForm(AccessibleFormMixin, forms.Form):
    email = email_field()


class SetPasswordForm(AccessibleFormMixin, NewPasswordMixin, forms.Form):
    new_password1, new_password2 = new_password_fields()

    field_map = {"new_password": "new_password1"}
