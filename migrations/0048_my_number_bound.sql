-- 個人番号 sealed to a public key and bound to its person (security review M3): a sealed value
-- is `v2:<key id>:<base64>` (HPKE, the 宛名番号 as associated data); values sealed before the
-- keys were separated (`v1:`) stay valid until `koki keys rotate` re-seals them.
ALTER TABLE residents DROP CONSTRAINT IF EXISTS residents_my_number_sealed_check;
ALTER TABLE residents ADD CONSTRAINT residents_my_number_sealed_check
    CHECK (my_number_sealed ~ '^v[12]:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]+=*$');
