"""Shared test builders: documents, actors and fixtures (import the fixtures you use)."""
