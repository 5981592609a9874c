"""Project-level views: error pages that answer JSON under /api/ and HTML elsewhere."""

from django.http import JsonResponse
from django.shortcuts import render


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def api_not_found(request, rest: str = ""):
    """Answer unknown /api/ paths with the API error shape instead of an HTML page."""
    return JsonResponse({"code": "not_found", "detail": "No such endpoint."}, status=404)


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(
            {"code": "server_error", "detail": "An unexpected error occurred."}, status=500
        )
    return render(request, "500.html", status=500)
