-- The photo service's accounts. Usernames are validated by the application
-- (3..32 characters of [a-z0-9_]); the unique constraint is what makes a
-- concurrent double signup answer 409 rather than create two rows.
CREATE TABLE users (
    id            bigserial   PRIMARY KEY,
    username      text        NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    display_name  text        NOT NULL,
    bio           text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
