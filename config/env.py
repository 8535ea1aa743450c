"""Strict parsing of environment variables for the settings.

Every helper raises :class:`ImproperlyConfigured` naming the variable when its value is malformed,
so a typo stops the start-up instead of silently choosing a default (settings fail closed).
A variable ``X`` may also be given as ``X_FILE``: the path of a file holding the value (secrets).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true"}
_FALSE = {"0", "false"}


def _raw(name: str) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE: impossible de lire le fichier {file_name!r} ({exc.strerror})."
            ) from exc
    return os.environ.get(name)


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    if value is None or value == "":
        return default
    return value


def env_required(name: str) -> str:
    value = env_str(name)
    if value is None:
        raise ImproperlyConfigured(
            f"{name} est obligatoire (variable d'environnement {name} ou {name}_FILE)."
        )
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} n'est pas un booléen : utilisez true/false ou 1/0."
    )


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} n'est pas un nombre entier.") from None
    if number < minimum or (maximum is not None and number > maximum):
        bound = f"entre {minimum} et {maximum}" if maximum is not None else f"≥ {minimum}"
        raise ImproperlyConfigured(f"{name}={number} hors limites : attendu {bound}.")
    return number


def env_float(name: str, default: float, *, minimum: float = 0.01) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} n'est pas un nombre.") from None
    if not number >= minimum or number == float("inf"):
        raise ImproperlyConfigured(f"{name}={number} hors limites : attendu ≥ {minimum}.")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None or value.strip() == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]
