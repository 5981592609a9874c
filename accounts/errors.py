from shop.errors import DomainError


class PasswordChangeRequired(DomainError):
    code = "password_change_required"
    status_code = 403
    default_detail = "You must change your password before continuing."
