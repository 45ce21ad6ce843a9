-- A case told no longer recovered (a lost moment joined it, or it closed as lost) drops the
-- recoveries it was told: found by case.
CREATE INDEX recoveries_by_case ON recoveries (case_id);
