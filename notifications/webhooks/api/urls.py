from rest_framework.routers import SimpleRouter

from notifications.webhooks.api.views import WebhookEndpointViewSet

router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = router.urls
