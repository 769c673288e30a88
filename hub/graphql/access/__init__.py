"""GraphQL of the access layer: bank consents."""
