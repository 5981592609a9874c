import pytest


@pytest.fixture
def local_media(settings, tmp_path):
    """Store uploads on local disk (a temporary MEDIA_ROOT), as production's default does."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": "/media/"},
        },
    }
    return root
