-- View rows by day: a report of a bounded period (the schedule of a week,
-- the billing report of a past month) reads only the rows filed under its
-- days, through this index, not every row of the kind. Created on the
-- partitioned table, so every generation's partition has it; the projector
-- builds it on a rebuilt generation's table before attaching it.
CREATE INDEX view_rows_day ON view_rows (view, generation, kind, day);
