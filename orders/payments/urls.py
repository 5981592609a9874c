from django.urls import path

from orders.payments.api import PaymentWebhookView

urlpatterns = [
    path(
        "payments/webhooks/stripe/",
        PaymentWebhookView.as_view(provider="stripe"),
        name="payment-webhook-stripe",
    ),
]
