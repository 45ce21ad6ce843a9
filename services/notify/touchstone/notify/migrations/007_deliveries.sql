-- Channels. Notify keeps what it needs to reach a customer from contacts.profiles.v1 (their
-- email address, language, consent and quiet hours; dropped when they are erased), and a
-- delivery outbox: each message a system step sends, written with the case that plans it and
-- drained by the sender (services/notify/touchstone/notify/sender.py), which records every attempt.
CREATE TABLE contacts (
    customer_id     text PRIMARY KEY,
    email           text NOT NULL DEFAULT '',          -- personal data
    language        text NOT NULL DEFAULT '',          -- BCP 47, e.g. "vi"
    channels        text[] NOT NULL DEFAULT '{}',      -- consented: email, sms, phone, push
    quiet_start     text NOT NULL DEFAULT '',          -- "21:00", in time_zone
    quiet_end       text NOT NULL DEFAULT '',          -- "08:00" (may be on the next day)
    time_zone       text NOT NULL DEFAULT ''
);
CREATE TABLE erased_customers (customer_id text PRIMARY KEY);

CREATE TABLE deliveries (
    delivery_id      text PRIMARY KEY,                  -- derived from case, step and channel
    case_id          text NOT NULL REFERENCES cases (case_id),
    n                integer NOT NULL,                  -- the case's step it carries out
    channel          text NOT NULL CHECK (channel IN ('email', 'webhook')),
    action           text NOT NULL,
    customer_id      text NOT NULL,
    site_id          text NOT NULL,
    moment_at        timestamptz NOT NULL,              -- the opening lost moment's time
    status           text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'skipped', 'dead')),
    next_attempt_at  timestamptz NOT NULL,              -- due time, then backoff or quiet hours
    attempts         integer NOT NULL DEFAULT 0,
    started_at       timestamptz,                       -- the attempt in flight (sending)
    sent_at          timestamptz,
    reason           text NOT NULL DEFAULT '',          -- why skipped or dead; the last error
    language         text NOT NULL DEFAULT '',          -- the template language it went out in
    content_hash     text NOT NULL DEFAULT ''           -- what went out, for "never twice"
);
CREATE INDEX deliveries_to_send ON deliveries (channel, next_attempt_at)
    WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_by_case ON deliveries (case_id, n);
CREATE INDEX deliveries_sent_by_customer ON deliveries (customer_id, sent_at)
    WHERE status IN ('sending', 'sent');
CREATE UNIQUE INDEX deliveries_never_twice ON deliveries (customer_id, content_hash)
    WHERE content_hash <> '';
