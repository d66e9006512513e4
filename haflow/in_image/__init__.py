"""Programs that run inside a container image, not in haflow: shipped to the pods as ConfigMaps.

Each module imports only the standard library and what its image holds (for ``docket_guard``: the
prefecthq/prefect image's prefect and pydocket), never haflow, which the image does not have (an
import-linter contract in pyproject.toml enforces it). haflow reads their source text to build the
ConfigMap and imports their constants (environment variable names) to fill in the values.
"""
