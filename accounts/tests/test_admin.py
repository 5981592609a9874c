import pytest
from django.contrib.auth.models import Permission  # noqa: F401 - ensures auth app is ready
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    return client


def test_user_changelist_lists_and_searches_by_email(admin_client):
    UserFactory(email="findme@example.com", must_change_password=True)
    UserFactory(email="other@example.com")
    response = admin_client.get(reverse("admin:accounts_user_changelist"), {"q": "findme"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "findme@example.com" in html
    assert "other@example.com" not in html


def test_admin_adds_a_user_by_email_and_password(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Staffer@Example.com",
            "usable_password": "true",
            "password1": "s3cure-Passw0rd",
            "password2": "s3cure-Passw0rd",
            "must_change_password": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="staffer@example.com")
    assert user.check_password("s3cure-Passw0rd")
    assert user.must_change_password


def test_admin_add_refuses_a_duplicate_email(admin_client):
    UserFactory(email="dup@example.com")
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "DUP@example.com",
            "usable_password": "true",
            "password1": "s3cure-Passw0rd",
            "password2": "s3cure-Passw0rd",
        },
    )
    assert response.status_code == 200
    assert User.objects.filter(email__iexact="dup@example.com").count() == 1


def test_user_change_page_shows_must_change_password_and_addresses(admin_client):
    user = UserFactory()
    AddressFactory(user=user, full_name="Inline Person")
    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="must_change_password"' in html
    assert "Inline Person" in html


def test_admin_can_flag_a_user_to_change_their_password(admin_client):
    user = UserFactory(email="flag@example.com")
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {
            "email": "flag@example.com",
            "first_name": "",
            "last_name": "",
            "is_active": "on",
            "must_change_password": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
            "addresses-MIN_NUM_FORMS": "0",
            "addresses-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.must_change_password


def test_address_changelist_renders(admin_client, django_assert_max_num_queries):
    AddressFactory.create_batch(5)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:accounts_address_changelist"))
    assert response.status_code == 200


def test_flagged_staff_are_sent_to_the_admin_password_change(client):
    from accounts.tests.factories import StaffUserFactory

    staff = StaffUserFactory(email="newstaff@example.com", must_change_password=True)
    client.force_login(staff)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("admin:password_change"))
    assert "registration/password_change_form.html" in [t.name for t in response.templates]
    # The storefront sends staff there too.
    shop_page = client.get(reverse("accounts:account"))
    assert shop_page.url.startswith(reverse("admin:password_change"))
    changed = client.post(
        reverse("admin:password_change"),
        {
            "old_password": "pass12345!",
            "new_password1": "An0ther-pass!",
            "new_password2": "An0ther-pass!",
        },
    )
    assert changed.status_code == 302
    assert changed.url == reverse("admin:password_change_done")
    staff.refresh_from_db()
    assert not staff.must_change_password
    assert staff.check_password("An0ther-pass!")
    assert client.get(reverse("admin:index")).status_code == 200


def test_flagged_staff_signing_in_on_the_storefront_go_to_the_admin_change(client):
    from accounts.tests.factories import StaffUserFactory

    StaffUserFactory(email="flaggedstaff@example.com", must_change_password=True)
    response = client.post(
        reverse("accounts:login"), {"email": "flaggedstaff@example.com", "password": "pass12345!"}
    )
    assert response.url.startswith(reverse("admin:password_change"))
