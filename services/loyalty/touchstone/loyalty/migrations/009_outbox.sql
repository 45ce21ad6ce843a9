-- What loyalty publishes (values, values at risk, tier changes) is written here in the
-- transaction that decided it, then relayed: a worker killed between its commit and its publish
-- would otherwise leave the redelivered batch nothing new to tell.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    key         bytea NOT NULL,
    value       bytea NOT NULL,
    headers     jsonb NOT NULL DEFAULT '[]',   -- [[name, base64 value], ...]
    created_at  timestamptz NOT NULL DEFAULT now()
);
