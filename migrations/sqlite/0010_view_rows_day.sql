-- View rows by day: a report of a bounded period (the schedule of a week,
-- the billing report of a past month) reads only the rows filed under its
-- days, through this index, not every row of the kind.
CREATE INDEX view_rows_day ON view_rows (view, generation, kind, day);
