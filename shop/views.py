"""Project-level views: error pages that answer JSON under /api/ and HTML elsewhere."""

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_exempt

from shop.errors import ShopErrorCode


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


@csrf_exempt
def api_not_found(request, rest: str = ""):
    """Answer unknown /api/ paths with the API error shape instead of an HTML page."""
    return JsonResponse(
        {"code": ShopErrorCode.NOT_FOUND, "detail": "No such endpoint."}, status=404
    )


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"code": ShopErrorCode.NOT_FOUND, "detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(
            {"code": ShopErrorCode.SERVER_ERROR, "detail": "An unexpected error occurred."},
            status=500,
        )
    return render(request, "500.html", status=500)


def csrf_failure(request, reason: str = ""):
    """Refuse a request that failed the CSRF check: JSON under /api/, Django's page elsewhere."""
    if _wants_json(request):
        return JsonResponse(
            {
                "code": ShopErrorCode.CSRF_FAILED,
                "detail": "CSRF check failed. Send the X-CSRFToken header with session auth, "
                "or authenticate with a Bearer token.",
            },
            status=403,
        )
    return django_csrf_failure(request, reason=reason)
