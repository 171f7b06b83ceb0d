"""Idempotent retries of mutation requests (the IETF httpapi draft "The Idempotency-Key HTTP
Header Field"): the key and the request's fingerprint (`rules`), and the table's statements
and the states they move a key through (`service`). The HTTP side is app/web/idempotency.py."""
