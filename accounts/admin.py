from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, PasswordChangeForm, UserChangeForm

from accounts.addresses.forms import CountryChoiceField
from accounts.models import Address, User
from accounts.resources import CustomerResource
from accounts.services import change_password, normalize_email
from shop.admin_io import StreamedExportMixin


class StaffPasswordChangeForm(PasswordChangeForm):
    """The admin's "change password" form, saving through ``accounts.services`` (which clears
    ``must_change_password`` and signs other devices out)."""

    def save(self, commit: bool = True) -> User:
        return change_password(
            user=self.user,
            old_password=self.cleaned_data["old_password"],
            new_password=self.cleaned_data["new_password1"],
        )


if hasattr(admin.site, "password_change_form"):  # the shop's site (shop.admin_site)
    admin.site.password_change_form = StaffPasswordChangeForm


class UserCreationForm(AdminUserCreationForm):
    """Admin "add user" form: email plus the two password inputs."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self):
        email = normalize_email(email=self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email


class UserAdminChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        email = normalize_email(email=self.cleaned_data["email"])
        clash = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("An account with this email already exists.")
        return email


class AddressAdminForm(forms.ModelForm):
    class Meta:
        model = Address
        fields = ("user", "full_name", "line1", "line2", "city", "postal_code", "country", "phone")

    country = CountryChoiceField()


class AddressInline(admin.StackedInline):
    model = Address
    form = AddressAdminForm
    extra = 0
    fields = (
        "full_name",
        ("line1", "line2"),
        ("city", "postal_code", "country"),
        "phone",
        "is_default",
    )
    # The default address is managed by accounts.services (exactly one per user).
    readonly_fields = ("is_default",)


@admin.register(User)
class UserAdmin(StreamedExportMixin, DjangoUserAdmin):
    form = UserAdminChangeForm
    add_form = UserCreationForm
    resource_classes = [CustomerResource]
    export_name = "customers"
    inlines = [AddressInline]
    list_display = (
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "must_change_password",
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "must_change_password", "groups")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("-date_joined",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password", "must_change_password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
        ("Options", {"fields": ("must_change_password",)}),
    )
    filter_horizontal = ("groups", "user_permissions")

    def get_inline_instances(self, request, obj=None):
        # The add page is email + password only; addresses come once the user exists.
        return super().get_inline_instances(request, obj) if obj is not None else []


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    form = AddressAdminForm
    list_display = ("full_name", "user", "city", "country", "is_default", "created_at")
    list_filter = ("country", "is_default")
    search_fields = ("full_name", "line1", "city", "postal_code", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("is_default", "created_at")
