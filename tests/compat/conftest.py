"""The app with `AP_COMPAT=server` (the same fixture as the translated upstream tests)."""

from tests.upstream.conftest import app

__all__ = ["app"]
