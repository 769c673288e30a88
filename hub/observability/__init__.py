"""Operations: JSON logs with request ids, the request-log middleware, metrics at /metrics."""
