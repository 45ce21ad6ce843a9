"""Kafka: topics and their headers, batch consumers, decoding, the outbox relay, live feeds,
reading the log back."""
