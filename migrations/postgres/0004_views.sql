-- Views projected from the event feed (kapchart-projector).
--
-- Each view has generations: one `active` (what reports read), and while
-- `kapchart rebuild` runs, one `building` beside it. A rebuild builds the
-- next generation from the first event, catches it up, and switches in one
-- transaction; the old generation is then deleted. Each generation keeps
-- its own cursor into the feed (txid, position), advanced in the same
-- transaction as the rows it produced, so a view is exactly as current as
-- its cursor says.
CREATE TABLE view_generations
(
    view            text   NOT NULL,
    generation      bigint NOT NULL,
    status          text   NOT NULL CHECK (status IN ('building', 'active', 'retired')),
    cursor_txid     bigint NOT NULL DEFAULT 0,
    cursor_position bigint NOT NULL DEFAULT 0,
    events          bigint NOT NULL DEFAULT 0,
    created_at      text   NOT NULL,
    activated_at    text,
    PRIMARY KEY (view, generation)
);

CREATE UNIQUE INDEX view_generations_one_active ON view_generations (view) WHERE status = 'active';

-- The rows of each view: for each client, a pure function of that client's
-- events up to the generation's cursor (kapchart-views' ViewState::rows).
-- Read by (view, generation, kind[, client_id]), the primary key's prefix;
-- `day` is there for period filters.
-- Fold states are not stored: the projector rebuilds a client's state from
-- the client's own events (one indexed read) when a batch touches it.
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
);

