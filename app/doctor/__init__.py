"""`talker-bridge doctor`: checks of the rights and settings each platform must have.

Each platform's module asks the platform's real API (the configured base URL and token) and
adds one line per check to a `Findings`: OK, or FAIL with the exact fix.
"""
