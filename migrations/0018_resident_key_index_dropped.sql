-- residents_my_number_key indexed the key each 個人番号 is sealed under, for `koki keys
-- rotate`. Rotation asks for the rows under any other key (`<>`, which a btree cannot serve)
-- and then for the rows under the current key (nearly every row: a sequential scan), so the
-- planner never used it, while every write of a person's projection inserted into it.
DROP INDEX residents_my_number_key;
