"""Packages whose names are imported on first use.

Every stage package (`fetch`, `feeds`, `extract`, `digest`, `alerts`, `service`) re-exports its
modules' public names, but importing them all at once would load lxml, trafilatura, numpy and
Apprise into commands that need none of them (`status`, `health`, `--help`: issue 23). A package
names which module holds each name; the first use imports that module and keeps the name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module


def lazy_names(package: str, module_of: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The package's module-level `__getattr__` and `__dir__` (PEP 562) for `module_of`'s names."""

    def __getattr__(name: str) -> object:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *module_of})

    return __getattr__, __dir__
