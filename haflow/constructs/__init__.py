"""Reusable constructs, one module per concern. Importing this package installs fast provider loading."""

from haflow import providers as _providers  # noqa: F401  (must run before any binding import)
