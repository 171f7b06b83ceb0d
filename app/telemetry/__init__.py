"""What the server tells its operator: the request being served (`record`), the metrics it
counts (`metrics`), its log lines and traces. The bottom of the house: imports no layer, so
every layer may report through it."""
