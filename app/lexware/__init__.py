"""Lexware Office: the rate-limited client, the CRM <-> Lexware mapping, and a fake server that
speaks the API's HTTP contract for tests and demos."""
