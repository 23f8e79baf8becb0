-- The plaintext 個人番号 column goes once 0008 has sealed every value.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM residents WHERE my_number IS NOT NULL AND my_number_sealed IS NULL) THEN
        RAISE EXCEPTION 'residents still hold unsealed 個人番号 values: run koki migrate with the keyring set';
    END IF;
END $$;
ALTER TABLE residents DROP COLUMN my_number;

-- Only the resident worker (which seals) and the administrator read the sealed values or the
-- hash: the tax and payment workers see every other column of 宛名 and nothing of 個人番号.
REVOKE SELECT ON residents FROM koki_tax, koki_payment;
GRANT SELECT (atena_no, current_history_no, household_no, birth_date, death_date, lives_here, insured, insured_number,
              as_of, next_review_on) ON residents TO koki_tax, koki_payment;
