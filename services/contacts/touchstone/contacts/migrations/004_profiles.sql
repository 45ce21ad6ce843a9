-- Registered customers carry a profile and consent; provisional ones are known from touchpoints.
ALTER TABLE customers
    ALTER COLUMN first_seen DROP NOT NULL,
    ALTER COLUMN last_seen DROP NOT NULL,
    ADD COLUMN status text NOT NULL DEFAULT 'provisional'
        CHECK (status IN ('provisional', 'registered')),
    ADD COLUMN profile bytea,   -- touchstone.contacts.v1.Profile (personal data)
    ADD COLUMN consent bytea;   -- touchstone.contacts.v1.Consent
ALTER TABLE customers ALTER COLUMN touchpoint_count SET DEFAULT 0;
