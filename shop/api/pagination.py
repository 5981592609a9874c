from rest_framework import exceptions, pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M``; default 20, a page size over 100 is clamped to 100.

    A page that is not a number or lies past the last page is ``400 validation_error`` with
    ``errors.page`` (like any other bad query parameter), not DRF's bare 404.
    """

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view=view)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({self.page_query_param: [str(exc.detail)]}) from exc
