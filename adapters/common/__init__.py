"""Pieces every customer adapter shares: webhook input checks, signatures, HTTP, payloads."""
