from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Authenticate by email, case-insensitively (``email`` or ``username`` keyword)."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        login = email or username
        if not login or password is None:
            return None
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get(email__iexact=login.strip())
        except user_model.DoesNotExist:
            user_model().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
