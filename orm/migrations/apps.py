"""The apps of a project: which package is which app label, and where its migrations live.

``[tool.orm] apps`` lists packages. Importing a package's ``models`` module
registers its models; the app's label is the last part of the package name
(``myproject.shop`` -> ``shop``) unless its models say ``Meta.app_label``.
Migration files live in the package's ``migrations`` sub-package.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from orm.exceptions import ImproperlyConfigured
from orm.models import registry

if TYPE_CHECKING:
    from orm.models.base import Model

__all__ = ["AppConfig", "load_apps"]


@dataclass(frozen=True)
class AppConfig:
    """One app: its package ``name``, ``label``, ``models`` module and ``migrations`` module name."""

    name: str
    label: str
    models_module: ModuleType | None

    @property
    def migrations_module(self) -> str:
        """The dotted name of the package that holds the app's migration files."""
        return f"{self.name}.migrations"

    def get_models(self) -> list[type[Model]]:
        """The models registered under this app's label (join models included)."""
        return list(registry.get_models(self.label))


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _import_app(package: str) -> tuple[ModuleType, ModuleType | None]:
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name is not None and package.startswith(error.name):
            raise ImproperlyConfigured(
                f"App {package!r} (in [tool.orm] apps) cannot be imported: no module named "
                f"{error.name!r}. Check the name, and that the project directory is on sys.path."
            ) from None
        raise
    models_name = f"{package}.models"
    if not _module_exists(models_name):
        return module, None
    return module, importlib.import_module(models_name)


def _label(package: str, models: ModuleType | None) -> str:
    labels = {
        value._meta.app_label
        for value in vars(models).values()
        if models is not None and isinstance(value, type) and hasattr(value, "_meta")
        and getattr(value, "__module__", None) == models.__name__ and not value._meta.abstract
    } if models is not None else set()
    if len(labels) > 1:
        raise ImproperlyConfigured(
            f"The models of app {package!r} name several app labels ({', '.join(sorted(labels))}); "
            "an app's models must share one Meta.app_label."
        )
    return labels.pop() if labels else package.rsplit(".", 1)[-1]


def load_apps(packages: list[str]) -> list[AppConfig]:
    """Import each app package and its ``models`` module; return their configs in order.

    Raises ``ImproperlyConfigured`` for a package that cannot be imported and
    for two packages with the same label.
    """
    configs: list[AppConfig] = []
    seen: dict[str, str] = {}
    for package in packages:
        _, models = _import_app(package)
        label = _label(package, models)
        if label in seen:
            raise ImproperlyConfigured(
                f"Apps {seen[label]!r} and {package!r} have the same label {label!r}; give the "
                "models of one of them another Meta.app_label."
            )
        seen[label] = package
        configs.append(AppConfig(name=package, label=label, models_module=models))
    return configs
