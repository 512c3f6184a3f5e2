-- The format of a generation's rows (kapchart-views' STATE_FORMAT when it
-- was built). When a new version of kapchart changes what the rows hold
-- (format 2: the practice's local dates, and the session row's `date`),
-- the projector sees the active generation's older format and rebuilds
-- that view beside it, without downtime. Generations made before this
-- column have format 1.
ALTER TABLE view_generations ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
