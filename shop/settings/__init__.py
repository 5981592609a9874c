"""The settings module (DJANGO_SETTINGS_MODULE=shop.settings): base.py, read lazily.

Importing this package (as importing shop.settings.test does first) does not evaluate base.py;
reading a setting does (PEP 562 module __getattr__/__dir__). So base.py's start-up refusal
(no SECRET_KEY while DEBUG is off) stops a real start, and the test settings still load
without production variables.
"""

from importlib import import_module
from types import ModuleType
from typing import Any


def _base() -> ModuleType:
    return import_module(f"{__name__}.base")


def __getattr__(name: str) -> Any:
    if name.startswith("__") or name == "base":
        raise AttributeError(name)
    return getattr(_base(), name)


def __dir__() -> list[str]:
    return dir(_base())
