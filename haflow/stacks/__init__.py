"""Stacks compose constructs: bootstrap (state bucket), <env>-foundation (AWS), <env>-platform (Helm + Kubernetes)."""

from haflow import providers as _providers  # noqa: F401  (must run before any binding import)
