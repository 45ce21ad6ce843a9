-- Each customer's tier at their home site, kept with their value so a change of tier (theirs,
-- or one others' values pushed them across) is found and published once.
ALTER TABLE customer_values ADD COLUMN tier text;
