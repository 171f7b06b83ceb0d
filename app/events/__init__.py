"""The event bus: the outbox written with each change, the relay to Redis, and the in-process
hub that fans Redis messages out to GraphQL subscriptions."""
