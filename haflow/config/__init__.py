"""Environment configuration: pydantic models, the base <- overlay loader, cross-field checks."""

from haflow.config.errors import ConfigError, ConfigIssue
from haflow.config.loader import DEFAULT_CONFIG_DIR, environment_names, load_environment, load_environments
from haflow.config.model import Environment

__all__ = [
    "DEFAULT_CONFIG_DIR",
    "ConfigError",
    "ConfigIssue",
    "Environment",
    "environment_names",
    "load_environment",
    "load_environments",
]
