"""Plumbing shared by the four services: settings, ids, Kafka, Postgres, gRPC, Faust."""
