"""The admin's config file: schema, loader and validation (see config/example.yaml).

from config import load_config, parse_config, ConfigError, BridgeConfig
"""

from config.channels import (
    Channels,
    FacebookChannel,
    SiteChannel,
    TelegramChannel,
    ViberChannel,
    VkChannel,
    Widget,
)
from config.errors import ConfigError
from config.loader import example_config_path, load_config, parse_config
from config.schema import (
    BridgeConfig,
    CloseConfig,
    GroupConfig,
    HttpConfig,
    OutboxConfig,
    TelegramConfig,
    TelegramLimits,
)

__all__ = [
    "BridgeConfig",
    "Channels",
    "CloseConfig",
    "ConfigError",
    "FacebookChannel",
    "GroupConfig",
    "HttpConfig",
    "OutboxConfig",
    "SiteChannel",
    "TelegramChannel",
    "TelegramConfig",
    "TelegramLimits",
    "ViberChannel",
    "VkChannel",
    "Widget",
    "example_config_path",
    "load_config",
    "parse_config",
]
