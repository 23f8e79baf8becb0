-- 個人番号 at rest (seed III-7, issue 7.5): sealed with AES-256-GCM by the application under
-- a named key (the server never sees a key or a number), found through a keyed hash.
-- `koki migrate` seals the values of the plaintext column in this migration's transaction;
-- 0009 then drops that column.
ALTER TABLE residents
    ADD COLUMN my_number_sealed text CHECK (my_number_sealed ~ '^v1:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]+=*$'),
    -- The key that sealed the value: what `koki keys rotate` looks for.
    ADD COLUMN my_number_key_id text GENERATED ALWAYS AS (split_part(my_number_sealed, ':', 2)) STORED,
    -- HMAC-SHA256 of the digits under the keyring's lookup key: equality search without decryption.
    ADD COLUMN my_number_hash bytea CHECK (octet_length(my_number_hash) = 32),
    ADD CONSTRAINT residents_my_number_sealed_with_hash CHECK ((my_number_sealed IS NULL) = (my_number_hash IS NULL));
CREATE INDEX residents_my_number_hash ON residents (my_number_hash) WHERE my_number_hash IS NOT NULL;
CREATE INDEX residents_my_number_key ON residents (my_number_key_id) WHERE my_number_key_id IS NOT NULL;
