"""The service's one HTTP server: health, metrics, and the routes components contribute."""
