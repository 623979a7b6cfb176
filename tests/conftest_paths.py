"""Paths the tests share: the repository root and the data folder beside it (../shared/data)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT.parent / "shared" / "data"
