"""Facebook Messenger adapter: signed Page webhooks in, the Send API out (aiohttp)."""
