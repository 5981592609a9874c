"""HTTP endpoints of the accounts API: parse, call a service, serialize."""

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import services
from accounts.addresses.serializers import AddressSerializer
from accounts.api.serializers import (
    EmailTokenObtainPairSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshTokenSerializer,
    RegisteredUserSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.models import Address
from accounts.permissions import PasswordChangeNotRequired
from shop.api.schema import (
    NOT_FOUND,
    THROTTLED,
    UNAUTHENTICATED,
    VALIDATION,
    error,
)
from shop.api.throttling import (
    ActionThrottleMixin,
    LoginThrottle,
    PasswordResetThrottle,
    RegisterThrottle,
)

TAGS = ["accounts"]
LOCKED = error(
    "Too many failed sign-ins for this account from this address, or for any accounts from "
    'this address: `{"code": "account_locked"}` until the cool-off period ends; or too many '
    'requests (`{"code": "throttled"}`, see Retry-After)'
)
PASSWORD_CHANGE_REQUIRED = error(
    'The user must change their password first (`{"code": "password_change_required"}`)'
)


@extend_schema(
    tags=TAGS,
    request=RegisterSerializer,
    responses={
        201: RegisteredUserSerializer,
        400: VALIDATION,
        403: PASSWORD_CHANGE_REQUIRED,
        429: THROTTLED,
    },
)
class RegisterView(ActionThrottleMixin, APIView):
    """Create a customer account (duplicate email or weak password → 400)."""

    permission_classes = [AllowAny, PasswordChangeNotRequired]
    action_throttle = RegisterThrottle

    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.register_user(**serializer.validated_data)
        return Response(RegisteredUserSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=TAGS,
    responses={
        200: TokenPairSerializer,
        400: VALIDATION,
        401: error('Wrong email or password (`{"code": "authentication_failed"}`)'),
        429: LOCKED,
    },
)
class TokenObtainView(ActionThrottleMixin, TokenObtainPairView):
    """Exchange email and password for a JWT access/refresh pair.

    Failed attempts are counted per (account, client IP) pair: after `LOGIN_MAX_FAILURES`
    that account gets `429 account_locked` from that address (even with the right password)
    for `LOGIN_LOCKOUT_MINUTES`; other accounts and other addresses are not affected. After
    `LOGIN_IP_MAX_FAILURES` failures over all accounts, the address is locked for every
    account. Failures during a lockout do not extend it; a password reset clears the account's
    lockouts.
    """

    serializer_class = EmailTokenObtainPairSerializer
    action_throttle = LoginThrottle


@extend_schema(
    tags=TAGS,
    responses={
        200: TokenPairSerializer,
        400: VALIDATION,
        401: error("The refresh token is invalid, expired or was already used"),
        429: THROTTLED,
    },
)
class TokenRotateView(TokenRefreshView):
    """Exchange a refresh token for a new pair; the used refresh token is blacklisted."""

    allow_when_password_change_required = True


@extend_schema(
    tags=TAGS,
    request=RefreshTokenSerializer,
    responses={
        204: OpenApiResponse(description="Signed out: the refresh token no longer works"),
        400: VALIDATION,
        401: error("The refresh token is invalid, expired or already revoked"),
        429: THROTTLED,
    },
)
class LogoutView(APIView):
    """Revoke a refresh token (access tokens expire on their own within minutes)."""

    permission_classes = [AllowAny]
    allow_when_password_change_required = True

    def post(self, request):
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            RefreshToken(serializer.validated_data["refresh"]).blacklist()
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


@extend_schema_view(
    get=extend_schema(tags=TAGS, responses={200: UserSerializer, 401: UNAUTHENTICATED}),
    patch=extend_schema(
        tags=TAGS,
        request=UserSerializer,
        responses={200: UserSerializer, 400: VALIDATION, 401: UNAUTHENTICATED, 429: THROTTLED},
    ),
)
class MeView(APIView):
    """The signed-in user's profile; PATCH changes `first_name` and `last_name` only."""

    permission_classes = [IsAuthenticated]
    allow_when_password_change_required = True

    def get(self, request):
        return Response(UserSerializer(request.user).data)

    def patch(self, request):
        serializer = UserSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = services.update_profile(user=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)


@extend_schema(
    tags=TAGS,
    request=PasswordChangeSerializer,
    responses={
        204: OpenApiResponse(description="Password changed; other devices must sign in again"),
        400: VALIDATION,
        401: UNAUTHENTICATED,
        429: THROTTLED,
    },
)
class PasswordChangeView(APIView):
    """Change the password (wrong `old_password` → 400 with `errors.old_password`)."""

    permission_classes = [IsAuthenticated]
    allow_when_password_change_required = True

    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.change_password(user=request.user, **serializer.validated_data)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Keep the browser session that made the change signed in (HTMX pages).
            update_session_auth_hash(request, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=TAGS,
    request=PasswordResetSerializer,
    responses={
        202: OpenApiResponse(description="Accepted; an email is sent if the account exists"),
        400: VALIDATION,
        403: PASSWORD_CHANGE_REQUIRED,
        429: THROTTLED,
    },
)
class PasswordResetView(ActionThrottleMixin, APIView):
    """Email a password reset link; answers 202 whether or not the account exists."""

    permission_classes = [AllowAny, PasswordChangeNotRequired]
    action_throttle = PasswordResetThrottle

    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.request_password_reset(
            email=serializer.validated_data["email"], base_url=settings.SHOP_BASE_URL
        )
        return Response(status=status.HTTP_202_ACCEPTED)


@extend_schema(
    tags=TAGS,
    request=PasswordResetConfirmSerializer,
    responses={
        204: OpenApiResponse(description="Password set; the link cannot be used again"),
        400: VALIDATION,
        403: PASSWORD_CHANGE_REQUIRED,
        429: THROTTLED,
    },
)
class PasswordResetConfirmView(APIView):
    """Set a new password with the `uid` and `token` from a reset link.

    Also clears the account's sign-in lockouts, from every address.
    """

    permission_classes = [AllowAny, PasswordChangeNotRequired]

    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.confirm_password_reset(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


ADDRESS_ERRORS = {401: UNAUTHENTICATED, 403: PASSWORD_CHANGE_REQUIRED}
ADDRESS_WRITE_ERRORS = {**ADDRESS_ERRORS, 429: THROTTLED}
ADDRESS_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Address id")


@extend_schema_view(
    list=extend_schema(
        tags=TAGS,
        responses={200: AddressSerializer(many=True), 400: VALIDATION, **ADDRESS_ERRORS},
    ),
    create=extend_schema(
        tags=TAGS, responses={201: AddressSerializer, 400: VALIDATION, **ADDRESS_WRITE_ERRORS}
    ),
    retrieve=extend_schema(
        tags=TAGS,
        parameters=[ADDRESS_ID],
        responses={200: AddressSerializer, 404: NOT_FOUND, **ADDRESS_ERRORS},
    ),
    partial_update=extend_schema(
        tags=TAGS,
        parameters=[ADDRESS_ID],
        responses={
            200: AddressSerializer,
            400: VALIDATION,
            404: NOT_FOUND,
            **ADDRESS_WRITE_ERRORS,
        },
    ),
    destroy=extend_schema(
        tags=TAGS,
        parameters=[ADDRESS_ID],
        responses={
            204: OpenApiResponse(description="Deleted; another address becomes the default"),
            404: NOT_FOUND,
            **ADDRESS_WRITE_ERRORS,
        },
    ),
)
class AddressViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The signed-in user's address book; other users' addresses answer 404."""

    serializer_class = AddressSerializer
    permission_classes = [IsAuthenticated, PasswordChangeNotRequired]
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    queryset = Address.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Address.objects.none()
        return Address.objects.filter(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.create_address(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_address(
            address=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_address(address=instance)
