from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M``; default 20, a page size over 100 is clamped to 100."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
