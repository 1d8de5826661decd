-- Seed rows of a new install: the autovacuum profiles shipped (values from the guide).
-- An upgrade adds the rows of a new check in its delta (sql/upgrade/).

INSERT INTO pgmaint.profiles (name, reloptions, description) VALUES
    ('high_churn',
     '{autovacuum_vacuum_scale_factor=0.05,autovacuum_vacuum_threshold=25,autovacuum_analyze_scale_factor=0.02,autovacuum_vacuum_cost_delay=10}',
     'Heavy updates and deletes (a cache or queue table): vacuum at 5% dead rows, analyze at 2% changes, less throttling.'),
    ('insert_heavy',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=100}',
     'Mostly inserts with few updates (usage or metrics rows): vacuum less often, analyze often enough for planning.'),
    ('append_only',
     '{autovacuum_vacuum_scale_factor=0.2,autovacuum_analyze_scale_factor=0.1,autovacuum_vacuum_threshold=50}',
     'Inserts only, occasional cleanup (an event or audit log).'),
    ('moderate',
     '{autovacuum_vacuum_scale_factor=0.1,autovacuum_analyze_scale_factor=0.05,autovacuum_vacuum_threshold=50}',
     'Steady mixed writes (ordinary application tables).');
