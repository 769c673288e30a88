"""GraphiQL's browser bundles: npm packages pinned in hub/web/package.json, installed at set-up.

Nothing third-party is committed: `install` runs `npm ci` against the committed lock file
into hub/web/node_modules (gitignored), from whatever registry npm is configured with (a
local mirror on an isolated network). `make run` and the browser tests call it; the hub
serves the files from that directory and, while it is missing, a page naming the command.

`python -m hub.web.assets` installs them when missing (or out of date) and says so.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
PACKAGE_JSON = WEB_DIR / "package.json"
# The page's own script and style (the sign-in panel), served beside the packages.
STATIC_DIR = WEB_DIR / "static"

# URL name -> package directory under node_modules; nothing else of node_modules is served.
PACKAGES = ("graphiql", "react", "react-dom")
# The files the page loads, by URL name and path inside the package.
PAGE_FILES = (
    ("react", "umd/react.production.min.js"),
    ("react-dom", "umd/react-dom.production.min.js"),
    ("graphiql", "graphiql.min.js"),
    ("graphiql", "graphiql.min.css"),
)
INSTALL_TIMEOUT_SECONDS = 600


class InstallFailed(RuntimeError):
    """npm is missing or `npm ci` failed; the message says what to do."""


def pinned_versions() -> dict[str, str]:
    """The exact versions package.json pins, by package name."""
    dependencies: dict[str, str] = json.loads(PACKAGE_JSON.read_text())["dependencies"]
    return dependencies


def install_command(web_dir: Path = WEB_DIR) -> list[str]:
    """The command that installs the bundles (also shown on the missing-assets page)."""
    return ["npm", "ci", "--prefix", str(web_dir), "--no-audit", "--no-fund"]


@dataclass(frozen=True)
class GraphiQLAssets:
    """Where GraphiQL's installed packages are, and whether they are all there."""

    node_modules: Path = WEB_DIR / "node_modules"
    static: Path = STATIC_DIR

    def package_dir(self, name: str) -> Path | None:
        """The installed directory of a served package, or None for any other name."""
        return self.node_modules / name if name in PACKAGES else None

    def installed_version(self, name: str) -> str | None:
        """The version of an installed package, or None when it is not installed."""
        try:
            manifest = json.loads((self.node_modules / name / "package.json").read_text())
        except (OSError, ValueError):
            return None
        version = manifest.get("version")
        return version if isinstance(version, str) else None

    def missing(self) -> list[str]:
        """What is absent or not at the pinned version (empty when the page can be served)."""
        pinned = pinned_versions()
        problems = [
            f"{name}@{pinned[name]} (installed: {self.installed_version(name) or 'none'})"
            for name in PACKAGES
            if self.installed_version(name) != pinned[name]
        ]
        problems += [
            f"{name}/{path}"
            for name, path in PAGE_FILES
            if not (self.node_modules / name / path).is_file()
        ]
        return problems

    @property
    def ready(self) -> bool:
        """True when every file the page loads is installed at its pinned version."""
        return not self.missing()


def install(*, web_dir: Path = WEB_DIR, force: bool = False) -> bool:
    """Runs `npm ci` in `web_dir` unless the pinned bundles are there; True when it ran.

    A lock file serialises concurrent callers (pytest workers, `make run` beside a test run),
    since two `npm ci` in one directory remove each other's files."""
    assets = GraphiQLAssets(node_modules=web_dir / "node_modules")
    if not force and assets.ready:
        return False
    if shutil.which("npm") is None:
        raise InstallFailed(
            "npm is not installed: install Node.js and npm (Debian: apt-get install npm), "
            f"then run: {' '.join(install_command(web_dir))}"
        )
    with open(web_dir / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and assets.ready:
            return False  # another process installed them while this one waited
        result = subprocess.run(
            install_command(web_dir),
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
    if result.returncode != 0:
        raise InstallFailed(
            f"`{' '.join(install_command(web_dir))}` failed (exit {result.returncode}); "
            "npm needs the npm registry or a mirror of it (npm config set registry URL):\n"
            + (result.stderr or result.stdout)[-4000:]
        )
    still_missing = assets.missing()
    if still_missing:
        raise InstallFailed(f"npm ci finished but these are missing: {', '.join(still_missing)}")
    return True


def main(*, web_dir: Path = WEB_DIR) -> int:
    """Installs the bundles when missing; exit status 1 (with the reason) when it cannot."""
    try:
        ran = install(web_dir=web_dir)
    except InstallFailed as failed:
        print(f"GraphiQL assets: {failed}", file=sys.stderr)
        return 1
    versions = ", ".join(f"{name}@{version}" for name, version in pinned_versions().items())
    print(f"GraphiQL assets {'installed' if ran else 'present'}: {versions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
