-- Where each customer group's lost moments leave its chance of staying a year (remembered.py),
-- by the group's root: the stay over the moments in the churn model's memory of the latest,
-- from the first of them, figured with the model whose fingerprint is kept. A fold whose facts
-- all come after the latest goes on from it and reads only the recent history. Every fold of a
-- group writes it again; deleting a row is always safe (the next fold reads the whole history).
CREATE TABLE remembered (
    root text PRIMARY KEY,
    members text NOT NULL,        -- the group's customer ids, sorted, as a JSON array
    model text NOT NULL,          -- the churn model's fingerprint
    last_at timestamptz,          -- the latest lost moment (null: none yet)
    last_id text NOT NULL,
    first_at timestamptz,         -- the first moment in the model's memory of the latest
    stay numeric NOT NULL,        -- unrounded, to the last digit
    same_visit interval NOT NULL  -- the model's: how far before the latest contact silence looks
);
