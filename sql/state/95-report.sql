-- metrics(), report() and checklist(): health for Prometheus, psql and the guide's checklist.

-- One checklist item: status pass, fail or unknown, the evidence and the fix.
CREATE TYPE pgmaint.checklist_item AS (
    item     text,
    status   text,
    evidence text,
    fix      text
);

COMMENT ON TYPE pgmaint.checklist_item IS
'A row of checklist(): item, status (pass, fail, unknown), evidence, fix.';
