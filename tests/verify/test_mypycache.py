"""The machine's mypy cache seed: kept once, copied into a workspace without a cache,
never over one that exists."""

from __future__ import annotations

import sys
from pathlib import Path

from specloom.verify import mypycache


def app(tmp_path: Path, requirements: str = "fastapi\n") -> Path:
    app_dir = tmp_path / "app"
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "requirements.txt").write_text(requirements)
    return app_dir


def cache(directory: Path, content: str) -> Path:
    (directory / "3.11").mkdir(parents=True)
    (directory / "3.11" / "cache.0.db").write_text(content)
    return directory


def test_the_first_cache_is_kept_as_the_seed_and_never_replaced(tmp_path: Path) -> None:
    root, app_dir = tmp_path / "seeds", app(tmp_path)
    first = cache(tmp_path / "ws1", "first")
    second = cache(tmp_path / "ws2", "second")
    assert mypycache.keep(first, sys.executable, app_dir, root)
    assert not mypycache.keep(second, sys.executable, app_dir, root)
    key = mypycache.seed_key(sys.executable, app_dir)
    assert (root / key / "3.11" / "cache.0.db").read_text() == "first"
    assert [p.name for p in root.iterdir()] == [key]  # no temporary left behind


def test_a_workspace_without_a_cache_starts_from_the_seed(tmp_path: Path) -> None:
    root, app_dir = tmp_path / "seeds", app(tmp_path)
    mypycache.keep(cache(tmp_path / "ws1", "libraries"), sys.executable, app_dir, root)
    fresh = tmp_path / "ws2" / ".specloom" / "cache" / "mypy"
    assert mypycache.seed(fresh, sys.executable, app_dir, root)
    assert (fresh / "3.11" / "cache.0.db").read_text() == "libraries"
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["mypy"]


def test_an_existing_cache_is_left_alone(tmp_path: Path) -> None:
    root, app_dir = tmp_path / "seeds", app(tmp_path)
    mypycache.keep(cache(tmp_path / "ws1", "seed"), sys.executable, app_dir, root)
    own = cache(tmp_path / "ws2", "own")
    assert not mypycache.seed(own, sys.executable, app_dir, root)
    assert (own / "3.11" / "cache.0.db").read_text() == "own"


def test_other_requirements_or_no_seed_start_cold(tmp_path: Path) -> None:
    root = tmp_path / "seeds"
    mypycache.keep(cache(tmp_path / "ws1", "x"), sys.executable, app(tmp_path), root)
    other = app(tmp_path / "other", "fastapi\nhttpx\n")
    assert not mypycache.seed(tmp_path / "ws2", sys.executable, other, root)
    assert not (tmp_path / "ws2").exists()
    assert not mypycache.seed(tmp_path / "ws3", sys.executable, other, tmp_path / "none")
