"""Test-only helpers shared by several suites (a TCP proxy that injects network faults, ...)."""
