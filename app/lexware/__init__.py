"""Lexware Office: the rate-limited client and the CRM <-> Lexware mapping. The fake server that
speaks the API's HTTP contract for tests and demos is the package fake_lexware/, outside the app."""
