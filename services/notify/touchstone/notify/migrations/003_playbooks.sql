-- Each case's playbook (picked by its opening lost moment, services/notify/touchstone/notify/playbooks) and its
-- steps laid out in time, written once with the case that opens.
ALTER TABLE cases ADD COLUMN playbook text NOT NULL DEFAULT '';
CREATE TABLE case_steps (
    case_id  text NOT NULL REFERENCES cases (case_id),
    n        integer NOT NULL CHECK (n > 0),
    action   text NOT NULL,
    owner    text NOT NULL,
    channel  text NOT NULL,
    due_at   timestamptz NOT NULL,
    PRIMARY KEY (case_id, n)
);
CREATE INDEX case_steps_due ON case_steps (due_at);
