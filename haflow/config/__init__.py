"""Environment configuration: pydantic models, the base <- overlay loader, cross-field checks."""

from haflow.config.loader import DEFAULT_CONFIG_DIR, environment_names, load_environment, load_environments
from haflow.config.model import Environment
from haflow.errors import ConfigError, ConfigIssue

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "ConfigError",
    "ConfigIssue",
    "Environment",
    "environment_names",
    "load_environment",
    "load_environments",
]
