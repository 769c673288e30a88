"""GraphiQL's npm bundles, installed once per test process the way `make run` installs them."""

from __future__ import annotations

import shutil

import pytest

from hub.web import assets


@pytest.fixture(scope="session")
def graphiql_installed() -> assets.GraphiQLAssets:
    """The pinned bundles in hub/web/node_modules: `npm ci` runs when they are missing."""
    if shutil.which("npm") is None:
        pytest.fail("npm is needed to install GraphiQL's assets (Debian: apt-get install npm)")
    assets.install()
    installed = assets.GraphiQLAssets()
    assert installed.ready, installed.missing()
    return installed
