"""Trusted documents: the GraphQL operations departments register, run by their id."""
