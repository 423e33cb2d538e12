"""The admin's config file: schema, loader and validation (see config/example.yaml).

from config import load_config, parse_config, ConfigError, BridgeConfig

The customer platforms' sections are not defined here: the caller passes their schemas
(`config.platforms.PlatformSchema`), as app/config.py does with the registered platforms.
"""

from config.errors import ConfigError
from config.loader import config_model, example_config_path, load_config, parse_config
from config.platforms import Caller, PlatformSchema
from config.schema import (
    BridgeConfig,
    Channels,
    CloseConfig,
    GroupConfig,
    HttpConfig,
    OutboxConfig,
    RetentionConfig,
    TelegramConfig,
    TelegramLimits,
)

__all__ = [
    "BridgeConfig",
    "Caller",
    "Channels",
    "CloseConfig",
    "ConfigError",
    "GroupConfig",
    "HttpConfig",
    "OutboxConfig",
    "PlatformSchema",
    "RetentionConfig",
    "TelegramConfig",
    "TelegramLimits",
    "config_model",
    "example_config_path",
    "load_config",
    "parse_config",
]
