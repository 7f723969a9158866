"""openpieces: a self-hostable reimplementation of the Activepieces platform API."""

__version__ = "0.1.0"
