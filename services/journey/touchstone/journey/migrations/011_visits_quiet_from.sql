-- A batch reads each lane's open visits that went quiet before its quiet_since, by when they
-- went quiet (VisitState.quiet_from: the last contact, or the lane's clock when it came if that
-- was later), not by the last contact alone: a late visit, held open until it has had its gap to
-- arrive whole, was read again by every batch meanwhile (all of them, when a backlog of old
-- event times arrives after the clocks reached the wall clock).
DROP INDEX visits_open_by_lane_last;
CREATE INDEX visits_open_by_lane_quiet
    ON visits (lane, greatest(last_at, coalesce(seen_at, last_at))) WHERE completed_at IS NULL;
ANALYZE visits;  -- the new expression's statistics, so the planner reads the index by its bounds
