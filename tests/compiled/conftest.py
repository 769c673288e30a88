"""The demo data set and its readers' tokens, as the views' tests use them."""

from tests.views.conftest import demo, statements

__all__ = ["demo", "statements"]
