"""VK adapter: vk_api pointed at a configurable API URL."""
