"""Input validation and output shapes of the accounts API (no writes here: see services)."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.errors import AccountLocked
from accounts.lockout import clear_pair_failures
from accounts.models import User
from accounts.services import normalize_email

PASSWORD_MAX_LENGTH = 256


def password_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        style={"input_type": "password"},
        **kwargs,
    )


class UserSerializer(serializers.ModelSerializer):
    """The signed-in user; only the names can be changed."""

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_staff", "must_change_password"]
        read_only_fields = ["id", "email", "is_staff", "must_change_password"]


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = password_field()
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class RegisteredUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name"]
        read_only_fields = fields


class EmailTokenObtainPairSerializer(TokenObtainPairSerializer):
    """``{email, password}`` → ``{access, refresh}``, counted by django-axes.

    The request goes to ``authenticate`` so axes can record failures per (account, client IP)
    pair and per IP (``accounts.lockout``); a locked-out client gets ``AccountLocked``
    (429 ``account_locked``) even with the right password.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = serializers.CharField(write_only=True, max_length=254)
        self.fields["password"] = password_field()

    def validate(self, attrs):
        request = self.context["request"]
        email = normalize_email(email=attrs[self.username_field])
        credentials = {self.username_field: email, "password": attrs["password"]}
        user = authenticate(request=request, **credentials)
        if getattr(request, "axes_locked_out", False):
            raise AccountLocked()
        if not jwt_settings.USER_AUTHENTICATION_RULE(user):
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        self.user = user
        if getattr(settings, "AXES_RESET_ON_SUCCESS", False):
            # Only this (account, IP) pair, as axes does for the HTML sign-in: a valid sign-in
            # must clear neither other addresses' failures nor this IP's for other accounts.
            clear_pair_failures(email=email, ip_address=request.axes_ip_address)
        refresh = self.get_token(user)
        if jwt_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, user)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshTokenSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = password_field()
    new_password = password_field()


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = password_field()
