"""The operators' side in Telegram: the desk and the Bot API calls it makes."""

from bridge.desk.aiogram_models import defer_model_builds

defer_model_builds()  # before any aiogram import: builds each Bot API model on first use
