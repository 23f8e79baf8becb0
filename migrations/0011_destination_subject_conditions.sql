-- A destination may receive transfers only about people who meet a condition (DOMAIN.md,
-- "Transfers": 生活福祉1課・2課 — qualification and premium of *foreign residents* on livelihood
-- protection). The relay checks it per transfer through a view that shows it one derived fact
-- per person and nothing else of 宛名.
ALTER TABLE transfer_destinations
    ADD COLUMN subject_condition text CHECK (subject_condition IN ('foreign-resident'));
UPDATE transfer_destinations SET subject_condition = 'foreign-resident' WHERE destination = 'welfare-livelihood';

CREATE VIEW transfer_subject_facts AS
    SELECT r.atena_no, h.resident_status = 'foreign-resident' AS foreign_resident
    FROM residents r JOIN resident_history h ON h.atena_no = r.atena_no AND h.history_no = r.current_history_no;
GRANT SELECT ON transfer_subject_facts TO koki_relay, koki_admin;
