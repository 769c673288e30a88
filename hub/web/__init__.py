"""The hub's browser pages: GraphiQL, its installed bundles and its sign-in panel."""
