-- The checkpoint log: each signed statement over every chain head, chained
-- to the previous statement by `previous`. `heads` holds the statement's
-- leaves (the chain heads, in tree order) so that bundles and later
-- verifications can prove and compare heads.
CREATE TABLE checkpoints
(
    number     bigint PRIMARY KEY CHECK (number >= 1),
    statement  jsonb  NOT NULL,
    signature  text   NOT NULL,
    public_key text   NOT NULL,
    heads      jsonb  NOT NULL
);
