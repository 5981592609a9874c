"""The typed service layer (README, "Architecture"; issue 11).

Every public function of the service layer takes keyword-only, annotated parameters (the user
included) and declares what it returns, as in ``def place_order(*, user: User, cart: Cart |
None, ...) -> Order``: a call reads as a sentence (``can_cancel(order=order, user=user)``),
arguments cannot be swapped silently, and mypy (``make lint``) checks every caller.

The service layer is every ``services``/``selectors`` module or package of the six apps and
the workflow modules in ``WORKFLOW_MODULES``. This module reads them (``ast``, the same module
walk as ``test_architecture``) and fails, naming ``file:line``, on a public function (or a
public method of a public class, after ``self``/``cls``) with a positional or unannotated
parameter or without a return annotation. Private helpers (``_name``) are free. It also checks
that mypy's configuration (``pyproject.toml``, ``[tool.mypy]``) covers the same modules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from django.conf import settings

from shop.tests.test_architecture import app_modules

#: Modules of the service layer that are not named ``services`` or ``selectors``.
WORKFLOW_MODULES = frozenset(
    {
        "cart.checkout",
        "orders.checkout.idempotency",
        "orders.checkout.recovery",
        "orders.fulfilment.couriers",
        "orders.lifecycle",
        "orders.payments.confirmation",
        "orders.payments.gateways",
        "orders.payments.refunds",
        "orders.payments.stripe",
        "orders.reports.dashboard",
    }
)


def is_service_module(module: str) -> bool:
    """Return whether ``module`` (a dotted name) belongs to the typed service layer."""
    below_app = module.split(".")[1:]
    return bool({"services", "selectors"} & set(below_app)) or module in WORKFLOW_MODULES


def service_modules() -> list[tuple[str, Path]]:
    """Return ``(module name, path)`` of every module of the service layer."""
    return [(module, path) for module, path in app_modules() if is_service_module(module)]


def _problems(node: ast.FunctionDef | ast.AsyncFunctionDef, *, is_method: bool) -> list[str]:
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    decorators = {getattr(d, "id", getattr(d, "attr", None)) for d in node.decorator_list}
    if is_method and "staticmethod" not in decorators and positional:
        positional = positional[1:]  # self / cls
    problems = []
    if positional:
        problems.append("positional " + ", ".join(a.arg for a in positional))
    if arguments.vararg is not None:
        problems.append(f"positional *{arguments.vararg.arg}")
    everything = [
        *positional,
        *arguments.kwonlyargs,
        *([arguments.vararg] if arguments.vararg else []),
        *([arguments.kwarg] if arguments.kwarg else []),
    ]
    unannotated = [a.arg for a in everything if a.annotation is None]
    if unannotated:
        problems.append("unannotated " + ", ".join(unannotated))
    if node.returns is None:
        problems.append("no return annotation")
    return problems


def signature_problems(source: str, *, path: str = "<string>") -> list[str]:
    """Return ``"path:line: name: problem; ..."`` for each public function of ``source`` (and
    public method of a public class) whose signature breaks the rule."""
    found = []
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.parse(source, filename=path).body:
        members: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool]] = []
        if isinstance(node, functions):
            members.append((node.name, node, False))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            members += [
                (f"{node.name}.{item.name}", item, True)
                for item in node.body
                if isinstance(item, functions)
            ]
        for name, function, is_method in members:
            if function.name.startswith("_"):
                continue
            problems = _problems(function, is_method=is_method)
            if problems:
                found.append(f"{path}:{function.lineno}: {name}: {'; '.join(problems)}")
    return found


# --- the rule -------------------------------------------------------------------------------


def test_public_services_take_keyword_only_annotated_parameters_and_declare_their_result():
    root = Path(settings.BASE_DIR)
    problems = []
    for _, path in service_modules():
        problems += signature_problems(path.read_text(), path=str(path.relative_to(root)))
    if problems:
        pytest.fail(
            "Public service and selector functions are written `def f(*, x: T) -> R` "
            "(make a helper private, `_name`, if it is not a service):\n"
            + "\n".join(f"  {p}" for p in problems),
            pytrace=False,
        )


def test_the_service_layer_covers_every_app_and_the_workflow_modules():
    modules = {name for name, _ in service_modules()}
    assert {
        "accounts.services",
        "catalog.services",
        "catalog.selectors",
        "inventory.services",
        "inventory.selectors",
        "cart.services",
        "cart.selectors",
        "orders.selectors",
        "orders.checkout.services",
        "orders.payments.services",
        "orders.returns.services",
        "orders.invoices.services",
        "notifications.services",
        "notifications.selectors",
    } <= modules
    assert modules >= WORKFLOW_MODULES, "a workflow module was moved: update WORKFLOW_MODULES"
    assert "orders.views" not in modules
    assert not any(".tests" in name or ".migrations" in name for name in modules)


def test_mypy_checks_every_module_of_the_service_layer_fully_annotated():
    pytest.importorskip("mypy")
    from mypy.config_parser import parse_config_file
    from mypy.fscache import FileSystemCache
    from mypy.modulefinder import matches_exclude
    from mypy.options import Options

    root = Path(settings.BASE_DIR)
    options = Options()
    parse_config_file(
        options, lambda: None, str(root / "pyproject.toml"), stdout=sys.stdout, stderr=sys.stderr
    )
    cache = FileSystemCache()
    missing = []
    for module, path in service_modules():
        relative = path.relative_to(root).as_posix()
        per_module = options.clone_for_module(module)
        if matches_exclude(relative, options.exclude, cache, False):
            missing.append(f"{relative}: excluded by [tool.mypy] exclude")
        elif not (per_module.disallow_untyped_defs and per_module.disallow_incomplete_defs):
            missing.append(f"{module}: not in the fully annotated [[tool.mypy.overrides]]")
    assert not missing, "\n".join(missing)


# --- the detector finds what it must (and only that) ----------------------------------------


def _found(source: str) -> list[str]:
    return [
        problem.removeprefix("<string>:")
        for problem in signature_problems(source.strip() + "\n", path="<string>")
    ]


def test_positional_unannotated_and_unreturned_signatures_are_found():
    source = """
def a(order, *, user) -> None: ...
def b(*, order: int): ...
async def c(x: int, /, *rest: int, **extra) -> int: ...
"""
    assert _found(source) == [
        "1: a: positional order; unannotated order, user",
        "2: b: no return annotation",
        "3: c: positional x; positional *rest; unannotated extra",
    ]


def test_public_methods_of_public_classes_are_checked_after_self():
    source = """
class Gateway:
    def charge(self, *, amount: int) -> str: ...
    def refund(self, amount) -> str: ...
    @classmethod
    def reset(cls) -> None: ...
    @staticmethod
    def parse(raw: str) -> int: ...
    def _private(self, anything): ...
    def __call__(self, x): ...
"""
    assert _found(source) == [
        "3: Gateway.refund: positional amount; unannotated amount",
        "7: Gateway.parse: positional raw",
    ]


def test_private_functions_and_classes_and_nested_functions_are_free():
    source = """
def _helper(x, y): ...
class _Plan:
    def lines(self, x): ...
def ok(*, x: int, **fields: str) -> None:
    def nested(a, b): ...
"""
    assert _found(source) == []
