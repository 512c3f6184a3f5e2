-- View rows partitioned by view, then by generation (PostgreSQL only).
--
-- A rebuild writes a new generation as a table of its own: `COPY` into a
-- table without indexes, then one sort to build its primary key, then
-- `ATTACH PARTITION`. The old generation is dropped as a table, not
-- deleted row by row. Reads and incremental writes still name `view_rows`
-- with its view and generation, and PostgreSQL routes them to the one
-- partition.
--
-- Views are derived data: the rows of 0004 are dropped here, not copied,
-- and the next catch-up builds every view again from the events (in bulk
-- on a large store). The events are untouched.
DROP TABLE view_rows;
DELETE FROM view_generations;

CREATE TABLE view_rows
(
    view       text   NOT NULL,
    generation bigint NOT NULL,
    kind       text   NOT NULL,
    client_id  text   NOT NULL,
    row_key    text   NOT NULL,
    day        text,
    data       text   NOT NULL,
    PRIMARY KEY (view, generation, kind, client_id, row_key)
) PARTITION BY LIST (view);

-- One partition per view, each partitioned by generation. The projector
-- creates `view_rows_<view>_<generation>` for each generation.
CREATE TABLE view_rows_schedule PARTITION OF view_rows FOR VALUES IN ('schedule')
    PARTITION BY LIST (generation);
CREATE TABLE view_rows_chart PARTITION OF view_rows FOR VALUES IN ('chart')
    PARTITION BY LIST (generation);
CREATE TABLE view_rows_billing PARTITION OF view_rows FOR VALUES IN ('billing')
    PARTITION BY LIST (generation);
CREATE TABLE view_rows_compliance PARTITION OF view_rows FOR VALUES IN ('compliance')
    PARTITION BY LIST (generation);
