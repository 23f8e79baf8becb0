-- When koki first told the union someone acquired 資格 (the business day of the
-- koiki.qualification-acquired it derived): an `unknown-to-union` item opens only when the union
-- has had a month since then — not a month since a 取得日 koki itself learned of late, nor
-- for the people a first load reports all at once.
CREATE TABLE union_reported (
    atena_no    text PRIMARY KEY,
    reported_on date             -- NULL: reported before the clock first ticked (set at the first tick)
);
GRANT SELECT, INSERT, UPDATE ON union_reported TO koki_resident;
GRANT SELECT ON union_reported TO koki_admin;
