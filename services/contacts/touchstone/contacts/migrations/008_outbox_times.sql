-- When each outbox row was written: the oldest still waiting bounds how far contacts' gRPC
-- ingest may claim to have come (services/platform/touchstone/platform/messaging/progress.py).
ALTER TABLE outbox ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
