-- Events from gRPC commands are written here in the command's transaction; a relay publishes them.
CREATE TABLE outbox (
    id       bigserial PRIMARY KEY,
    topic    text NOT NULL,
    key      bytea NOT NULL,
    value    bytea NOT NULL,
    headers  jsonb NOT NULL DEFAULT '[]'   -- [[name, base64 value], ...]
);
