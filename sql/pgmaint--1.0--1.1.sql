-- pgmaint 1.0 -> 1.1, written by hand.  Every change of sql/install/*.sql
-- since 1.0 appears here too, so that ALTER EXTENSION pgmaint UPDATE gives
-- an installed database exactly what CREATE EXTENSION pgmaint gives a new
-- one (test/integration/upgrade.sh compares the two catalogs).

\echo Use "ALTER EXTENSION pgmaint UPDATE TO '1.1'" to load this file. \quit
