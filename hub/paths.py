"""Where the project's own files (migrations, shipped standards) live."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
STANDARDS_DIR = PROJECT_ROOT / "standards"
