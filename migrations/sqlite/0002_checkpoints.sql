-- The checkpoint log: each signed statement over every chain head, chained
-- to the previous statement by `previous`. `heads` holds the statement's
-- leaves (the chain heads, in tree order) so that bundles and later
-- verifications can prove and compare heads.
CREATE TABLE checkpoints
(
    number     INTEGER PRIMARY KEY CHECK (number >= 1),
    statement  TEXT    NOT NULL,
    signature  TEXT    NOT NULL,
    public_key TEXT    NOT NULL,
    heads      TEXT    NOT NULL
);
