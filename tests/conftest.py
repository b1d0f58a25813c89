"""Shared fixtures: the demo warehouse (built once per session) and small hand-made warehouses."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import warehouse
from core.load.demo import build_demo

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_file(relative: str) -> Path:
    """A real data file from ../shared/data: fail in CI when missing, skip only on a laptop without it."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Falta el archivo de datos reales {path} (siempre presente en CI)")
        pytest.skip(f"sin {path}")
    return path


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory) -> Path:
    """The demo warehouse at scale 1 (the one `make run` shows), built once."""
    path = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    build_demo(path, seed=2024, scale=1.0, progress=None)
    return path


@pytest.fixture()
def use_warehouse(monkeypatch):
    """Point the core at a given warehouse file for one test."""
    def _use(path: Path) -> Path:
        monkeypatch.setenv("ATALAYA_WAREHOUSE", str(path))
        warehouse.close_all()
        return path
    yield _use
    warehouse.close_all()


@pytest.fixture()
def demo(demo_path, use_warehouse) -> Path:
    return use_warehouse(demo_path)


@pytest.fixture(autouse=True)
def internal_mode(monkeypatch):
    """Most tests check exact figures, so they run in internal mode; public-mode tests opt in
    with the `public_mode` fixture."""
    monkeypatch.setenv("ATALAYA_MODO", "interno")


@pytest.fixture()
def public_mode(monkeypatch):
    monkeypatch.setenv("ATALAYA_MODO", "publico")
