"""Each table is written only by its own app (README, "Architecture").

The import contracts (``lint-imports``) keep the apps layered; they cannot see an app that
imports another app's model and writes it (``Cart.objects.filter(...).update(...)`` in orders).
This module reads every non-test, non-migration module of the six apps (``ast``) and fails on
any write to a model of another app, naming ``file:line``, the model and its table:

- manager and queryset writes: ``create``, ``bulk_create``, ``update``, ``delete``,
  ``get_or_create``, ``update_or_create``, ``bulk_update``, ``create_user``, ... on a chain that
  starts at such a model (``Model.objects.select_for_update().filter(...).update(...)``);
- ``Model(...).save()`` and ``.save()``/``.delete()`` on a variable holding such a model: assigned
  from a query or a constructor, a ``for`` target over a query, or a parameter annotated with
  the model;
- writes through a relation that ends at another app's model (``variant.stock.save()`` in the
  catalogue: ``StockItem`` belongs to inventory), and many-to-many ``add``/``remove``/...

Models are found however they are imported (``from cart.models import Cart``, ``from cart import
models``, a name re-exported by another module, ``get_user_model()``, ``apps.get_model(...)``):
names are resolved against the real modules. Admin classes and management commands are modules
like any other, so they are covered; the admin's own machinery (inlines, registrations) is
checked by the runtime tests at the end.
"""

from __future__ import annotations

import ast
import importlib
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models

APPS = ("accounts", "catalog", "inventory", "cart", "orders", "notifications")

#: Methods that write rows when called on a manager, a queryset, an instance or a related manager.
WRITE_METHODS = frozenset(
    {
        "create",
        "bulk_create",
        "update",
        "delete",
        "get_or_create",
        "update_or_create",
        "bulk_update",
        "save",
        "save_base",
        "create_user",
        "create_superuser",
        "add",
        "remove",
        "clear",
        "set",
    }
)
#: Query methods whose result is not a model, a queryset or a manager.
NON_MODEL_RESULTS = frozenset(
    {
        "values",
        "values_list",
        "count",
        "exists",
        "aggregate",
        "contains",
        "explain",
        "dates",
        "datetimes",
    }
)
MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})


@dataclass(frozen=True)
class Write:
    path: str
    line: int
    app: str
    model: type[models.Model]
    method: str

    def __str__(self) -> str:
        meta = self.model._meta
        return (
            f"{self.path}:{self.line}: {self.app} writes {meta.app_label}.{meta.object_name} "
            f"(table {meta.db_table}) with .{self.method}()"
        )


def _is_app_model(obj: object) -> bool:
    return (
        isinstance(obj, type)
        and issubclass(obj, models.Model)
        and hasattr(obj, "_meta")
        and not obj._meta.abstract
        and obj._meta.app_label in APPS
    )


def _relations(model: type[models.Model]) -> dict[str, type[models.Model]]:
    """Return ``{attribute: related model}`` for the forward and reverse relations of ``model``."""
    out: dict[str, type[models.Model]] = {}
    for field in model._meta.get_fields(include_hidden=True):
        if not field.is_relation or field.related_model is None:
            continue
        related = field.related_model
        if isinstance(related, str):  # "self" resolved already; a lazy string is not a model
            continue
        if field.auto_created and not field.concrete:  # reverse relation
            accessor = field.get_accessor_name()  # type: ignore[attr-defined]
            if accessor and not accessor.endswith("+"):
                out[accessor] = related
        else:
            out[field.name] = related
    return out


def _plain_fields(model: type[models.Model]) -> set[str]:
    return {
        f.attname
        for f in model._meta.get_fields()
        if getattr(f, "concrete", False) and not f.is_relation
    } | {f.name for f in model._meta.get_fields() if not f.is_relation}


class _ModuleWrites(ast.NodeVisitor):
    """Find writes to other apps' models in one module."""

    def __init__(self, *, module: str, path: str, app: str) -> None:
        self.module = module
        self.package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        self.path = path
        self.app = app
        self.names: dict[str, Any] = {}
        self.scopes: list[dict[str, type[models.Model]]] = [{}]
        self.found: list[Write] = []

    # --- names bound by imports (anywhere in the module, also inside functions) -------------
    def collect_imports(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.names[alias.asname] = _import(alias.name)
                    else:
                        top = alias.name.partition(".")[0]
                        self.names[top] = _import(top)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node.module, node.level)
                if base is None:
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    self.names[alias.asname or alias.name] = _import_from(base, alias.name)

    def _absolute(self, module: str | None, level: int) -> str | None:
        if not level:
            return module
        parts = self.package.split(".")
        if level > 1:
            parts = parts[: -(level - 1)]
        if not parts:
            return None
        return ".".join(parts + ([module] if module else []))

    # --- what an expression is ------------------------------------------------------------
    def _object(self, node: ast.expr) -> Any:
        """Return the module-level object a name or dotted name stands for, else None."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._object(node.value)
            if isinstance(base, types.ModuleType):
                return getattr(base, node.attr, None)
        return None

    def _model_class(self, node: ast.expr) -> type[models.Model] | None:
        """Return the model class an expression denotes (not an instance of it)."""
        obj = self._object(node)
        if _is_app_model(obj):
            return obj
        if isinstance(node, ast.Call):
            func = self._object(node.func)
            if func is get_user_model:
                return get_user_model()
            if func is django_apps.get_model or (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "get_model"
                and self._object(node.func.value) is django_apps
            ):
                args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                try:
                    model = django_apps.get_model(*args)
                except (LookupError, TypeError, ValueError):
                    return None
                return model if _is_app_model(model) else None
        return None

    def _model_of(self, node: ast.expr) -> type[models.Model] | None:
        """Return the model whose rows an expression reaches (class, manager, queryset, row)."""
        model = self._model_class(node)
        if model is not None:
            return model
        if isinstance(node, ast.Name):
            for scope in reversed(self.scopes):
                if node.id in scope:
                    return scope[node.id]
            return None
        if isinstance(node, ast.Call):
            constructed = self._model_class(node.func)  # Model(...)
            if constructed is not None:
                return constructed
            if isinstance(node.func, ast.Attribute):
                if node.func.attr in NON_MODEL_RESULTS:
                    return None
                return self._model_of(node.func.value)
            return None
        if isinstance(node, ast.Attribute):
            owner = self._model_of(node.value)
            if owner is None:
                return None
            if node.attr in MANAGER_ATTRIBUTES:
                return owner
            related = _relations(owner).get(node.attr)
            if related is not None:
                return related
            if node.attr in _plain_fields(owner):
                return None
            return owner  # a method (filter, select_for_update, ...) or a custom manager
        if isinstance(node, ast.Subscript):
            return self._model_of(node.value)
        if isinstance(node, ast.Await):
            return self._model_of(node.value)
        return None

    def _annotation_model(self, node: ast.expr | None) -> type[models.Model] | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.BinOp):  # Model | None
            return self._annotation_model(node.left) or self._annotation_model(node.right)
        if isinstance(node, ast.Subscript):  # Optional[Model], list[Model], QuerySet[Model]
            return self._annotation_model(node.slice)
        if isinstance(node, ast.Tuple):
            for element in node.elts:
                model = self._annotation_model(element)
                if model is not None:
                    return model
            return None
        return self._model_class(node)

    # --- scopes and bindings --------------------------------------------------------------
    def _bind(self, target: ast.expr, model: type[models.Model] | None) -> None:
        if isinstance(target, ast.Name):
            if model is None:
                self.scopes[-1].pop(target.id, None)
            else:
                self.scopes[-1][target.id] = model

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        scope: dict[str, type[models.Model]] = {}
        arguments = node.args
        for arg in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
            *([arguments.vararg] if arguments.vararg else []),
            *([arguments.kwarg] if arguments.kwarg else []),
        ]:
            model = self._annotation_model(arg.annotation)
            if model is not None:
                scope[arg.arg] = model
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scopes.append(scope)
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        model = self._model_of(node.value)
        for target in node.targets:
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Call):
                # obj, created = Model.objects.get_or_create(...)
                method = getattr(node.value.func, "attr", "")
                first = target.elts[0] if target.elts else None
                if first is not None and method in {"get_or_create", "update_or_create"}:
                    self._bind(first, model)
            else:
                self._bind(target, model)
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        model = self._annotation_model(node.annotation)
        if model is None and node.value is not None:
            model = self._model_of(node.value)
        self._bind(node.target, model)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self._bind(node.target, self._model_of(node.iter))
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.visit(node.iter)
        self._bind(node.target, self._model_of(node.iter))
        for condition in node.ifs:
            self.visit(condition)

    def _visit_comprehension_expr(self, node: ast.expr) -> None:
        self.scopes.append(dict(self.scopes[-1]))
        for generator in node.generators:  # type: ignore[attr-defined]
            self.visit_comprehension(generator)
        for field in ("elt", "key", "value"):
            child = getattr(node, field, None)
            if child is not None:
                self.visit(child)
        self.scopes.pop()

    visit_ListComp = _visit_comprehension_expr
    visit_SetComp = _visit_comprehension_expr
    visit_DictComp = _visit_comprehension_expr
    visit_GeneratorExp = _visit_comprehension_expr

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, self._model_of(item.context_expr))
        for statement in node.body:
            self.visit(statement)

    # --- the writes -----------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in WRITE_METHODS:
            model = self._model_of(func.value)
            if model is not None and model._meta.app_label != self.app:
                self.found.append(
                    Write(
                        path=self.path,
                        line=node.lineno,
                        app=self.app,
                        model=model,
                        method=func.attr,
                    )
                )
        self.generic_visit(node)


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _import_from(module: str, name: str) -> Any:
    base = _import(module)
    if base is None:
        return None
    if hasattr(base, name):
        return getattr(base, name)
    return _import(f"{module}.{name}")


def writes_in_source(source: str, *, module: str, path: str = "<string>") -> list[Write]:
    """Return the writes to other apps' models in ``source``, the code of ``module``."""
    tree = ast.parse(source, filename=path)
    visitor = _ModuleWrites(module=module, path=path, app=module.partition(".")[0])
    visitor.collect_imports(tree)
    visitor.visit(tree)
    return visitor.found


def app_modules() -> list[tuple[str, Path]]:
    """Return ``(module name, path)`` of every non-test, non-migration module of the apps."""
    root = Path(settings.BASE_DIR)
    found = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root)
            if {"tests", "migrations"} & set(relative.parts) or path.name == "conftest.py":
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append((".".join(parts), path))
    return found


# --- the rule -------------------------------------------------------------------------------


def test_no_module_writes_another_apps_table():
    root = Path(settings.BASE_DIR)
    writes = []
    for module, path in app_modules():
        writes += writes_in_source(
            path.read_text(), module=module, path=str(path.relative_to(root))
        )
    if writes:
        pytest.fail(
            "Each table is written only by its own app's services; call a service of the "
            "owning app instead:\n" + "\n".join(f"  {w}" for w in writes),
            pytrace=False,
        )


def test_the_scan_covers_every_app_and_its_sub_packages():
    modules = {name for name, _ in app_modules()}
    assert {f"{app}.models" for app in APPS} <= modules
    assert "orders.payments.gateways" in modules
    assert not any(".tests" in name or ".migrations" in name for name in modules)


# --- the detector finds what it must (and only that) ----------------------------------------


def _found(source: str, module: str = "orders.somewhere") -> list[tuple[int, str, str]]:
    return [
        (w.line, w.model._meta.label, w.method)
        for w in writes_in_source(source.strip() + "\n", module=module)
    ]


def test_a_queryset_update_on_another_apps_model_is_found():
    source = """
from cart.models import Cart
Cart.objects.select_for_update().filter(pk=1).update(status="x")
"""
    assert _found(source) == [(2, "cart.Cart", "update")]


def test_manager_writes_are_found_however_the_model_is_imported():
    source = """
import cart.models
from cart import models as cart_models
from inventory import models
cart.models.CartLine.objects.create(cart_id=1)
cart_models.Cart.objects.bulk_create([])
models.StockItem.objects.get_or_create(variant_id=1)
"""
    assert _found(source) == [
        (4, "cart.CartLine", "create"),
        (5, "cart.Cart", "bulk_create"),
        (6, "inventory.StockItem", "get_or_create"),
    ]


def test_a_re_exported_model_is_found(monkeypatch):
    from cart.models import Cart

    reexporting = types.ModuleType("cart.reexported")
    reexporting.Basket = Cart  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "cart.reexported", reexporting)
    source = """
from cart.reexported import Basket
Basket.objects.filter(pk=1).delete()
"""
    assert _found(source) == [(2, "cart.Cart", "delete")]


def test_instances_saved_or_deleted_are_found():
    source = """
from cart.models import Cart, CartLine
from inventory.models import StockItem

def a(*, cart: Cart | None, line: "CartLine") -> None:
    cart.save()
    line.delete()

def b() -> None:
    StockItem(variant_id=1).save()
    item = StockItem.objects.get(pk=1)
    item.on_hand = 3
    item.save(update_fields=["on_hand"])
    for row in CartLine.objects.filter(cart_id=1):
        row.save()
    lines = CartLine.objects.all()
    lines.update(quantity=1)
"""
    assert _found(source) == [
        (5, "cart.Cart", "save"),
        (6, "cart.CartLine", "delete"),
        (9, "inventory.StockItem", "save"),
        (12, "inventory.StockItem", "save"),
        (14, "cart.CartLine", "save"),
        (16, "cart.CartLine", "update"),
    ]


def test_writes_through_a_relation_to_another_app_are_found():
    source = """
from catalog.models import Variant

def restock(*, variant: Variant) -> None:
    variant.stock.save()
    variant.product.save()
"""
    assert _found(source, module="catalog.services") == [(4, "inventory.StockItem", "save")]


def test_the_user_model_from_get_user_model_is_found():
    source = """
from django.contrib.auth import get_user_model
User = get_user_model()
User.objects.create_superuser(email="a@b.c", password="x")
get_user_model().objects.filter(pk=1).update(is_active=False)
"""
    assert _found(source, module="catalog.management.commands.seed") == [
        (3, "accounts.User", "create_superuser"),
        (4, "accounts.User", "update"),
    ]


def test_reads_and_own_tables_are_not_writes():
    source = """
from cart.models import Cart, CartLine
from orders.models import Order

def f(*, cart: Cart, order: Order) -> None:
    Cart.objects.filter(pk=1).values_list("pk", flat=True)
    Cart.objects.select_for_update().get(pk=1)
    names = {}
    names.update(a=1)
    data = Cart.objects.values("pk").first()
    data.update({"x": 1})
    order.save()
    Order.objects.filter(cart_token=cart.token).update(status="x")
    total = cart.lines.count()
"""
    assert _found(source) == []


# --- the admin's own machinery (runtime) ----------------------------------------------------


def _app_of(cls: type) -> str:
    return cls.__module__.partition(".")[0]


def test_admin_classes_are_registered_by_the_app_that_owns_the_model():
    wrong = [
        f"{type(model_admin).__module__}.{type(model_admin).__name__} registers "
        f"{model._meta.label} (table {model._meta.db_table})"
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in APPS and _app_of(type(model_admin)) in APPS
        if _app_of(type(model_admin)) != model._meta.app_label
    ]
    assert not wrong, "\n".join(wrong)


def test_admin_inlines_of_another_apps_model_are_read_only(rf):
    from accounts.models import User

    request = rf.get("/admin/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    writable = []
    for model, model_admin in admin.site._registry.items():
        owner = _app_of(type(model_admin))
        if owner not in APPS:
            continue
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            if inline.model._meta.app_label == owner:
                continue
            can = {
                "add": inline.has_add_permission(request, None),
                "change": inline.has_change_permission(request, None),
                "delete": inline.can_delete and inline.has_delete_permission(request, None),
            }
            if any(can.values()):
                allowed = ", ".join(k for k, v in can.items() if v)
                writable.append(
                    f"{type(model_admin).__module__}.{type(model_admin).__name__}: "
                    f"{inline_class.__name__} can {allowed} "
                    f"{inline.model._meta.label} (table {inline.model._meta.db_table})"
                )
    assert not writable, "\n".join(writable)


@pytest.mark.parametrize("app", APPS)
def test_every_app_is_installed_under_its_package_name(app):
    # The rules above compare a module's top-level package with a model's app label.
    assert django_apps.get_app_config(app).name == app
