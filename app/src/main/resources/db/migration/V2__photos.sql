-- A user's photos live on the user's shard, next to the user's row (issue 6: no
-- cross-shard joins): every query names user_id, and a resharding moves the rows by it.
-- The bytes are not here: they are in the blob store under photos/<id>, where any web
-- server or worker finds them; a photo id is a Snowflake id, so any server makes one.
-- An edited version is a row with source_id and the job that makes it; its bytes
-- appear in the blob store when the job is done (the job's state is in the queue).
-- No foreign key to users: a resharding copies and deletes each table on its own.
CREATE TABLE photos (
    id          bigint      PRIMARY KEY,
    user_id     bigint      NOT NULL,
    source_id   bigint,
    job_id      text,
    ops         text,
    media_type  text        NOT NULL,
    width       integer     NOT NULL,
    height      integer     NOT NULL,
    bytes       bigint,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX photos_by_user ON photos (user_id, id);
CREATE INDEX photos_by_source ON photos (user_id, source_id) WHERE source_id IS NOT NULL;
