"""The composition root: the command line, the wiring and the service.

The only package that imports the core, the desk, the concrete adapters and `sandbox` together.
"""
