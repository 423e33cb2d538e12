"""Viber adapter: signed webhooks parsed with viberbot's models, the REST API over aiohttp."""
