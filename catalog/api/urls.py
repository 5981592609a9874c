from rest_framework.routers import SimpleRouter

from catalog.api.views import CategoryViewSet, ProductViewSet, VariantViewSet
from catalog.api.wishlist import WishlistViewSet

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")
router.register("variants", VariantViewSet, basename="variant")
router.register("wishlist", WishlistViewSet, basename="wishlist")

urlpatterns = router.urls
