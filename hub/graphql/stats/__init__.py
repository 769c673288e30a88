"""GraphQL queries of the statistics and forex views."""
