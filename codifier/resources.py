"""Where the shipped data folders are: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SHIPPED = _PACKAGE / "_shipped"  # the wheel puts playbooks/, generators/, ... here
_CHECKOUT = _PACKAGE.parent  # an editable install or a source tree


def data_dir(name: str) -> Path:
    """The folder `name` (playbooks, generators, stdlib, migrations, schema)."""
    shipped = _SHIPPED / name
    if shipped.is_dir():
        return shipped
    return _CHECKOUT / name


def playbooks_dir() -> Path:
    return data_dir("playbooks")


def generators_dir() -> Path:
    return data_dir("generators")


def stdlib_dir() -> Path:
    return data_dir("stdlib")


def schema_file() -> Path:
    return data_dir("schema") / "playbook.schema.json"
