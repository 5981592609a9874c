"""Background tasks for the tracing tests (module-level, as django_tasks requires)."""

from django_tasks import task


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def fail() -> None:
    raise ValueError("the task failed on purpose")


@task()
def count_users() -> int:
    from accounts.models import User

    return User.objects.count()
