# pgmaint: PostgreSQL maintenance extension (PGXS build)

EXTENSION = pgmaint
EXTVERSION = 1.2

MODULE_big = pgmaint
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# Code is replayed, state is migrated.  The current version's install script
# is its schema state (sql/state/*.sql: tables, types, indexes), its code
# (sql/code/*.sql: every function, procedure and trigger, as CREATE OR
# REPLACE with its COMMENT and GRANTs) and the rows a new install starts
# with (sql/seed/*.sql).  Each upgrade to it, sql/upgrade/A--$(EXTVERSION).sql,
# is a short hand-written state delta, and the built
# pgmaint--A--$(EXTVERSION).sql is that delta followed by the same code.
# Released scripts (sql/released/) are frozen: on a release, the built
# install and upgrade scripts are copied there and never edited again.
STATE = $(sort $(wildcard sql/state/*.sql))
CODE = $(sort $(wildcard sql/code/*.sql))
SEED = $(sort $(wildcard sql/seed/*.sql))
DELTAS = $(wildcard sql/upgrade/*--$(EXTVERSION).sql)
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql \
	$(patsubst sql/upgrade/%,sql/$(EXTENSION)--%,$(DELTAS))
DATA = $(wildcard sql/released/$(EXTENSION)--*.sql)
SCRIPTS = bin/pgmaint_backup

# Every test/sql/NAME.sql is a regression test, with test/expected/NAME.out.
REGRESS = $(sort $(basename $(notdir $(wildcard test/sql/*.sql))))
# pg_regress starts a temporary instance of its own with test/regress.conf
# (pgmaint preloaded): `make installcheck` needs nothing else running.
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION) --temp-instance=./tmp_check \
	--temp-config=$(srcdir)/test/regress.conf

# -Werror belongs in CI: .ci/run passes it through PG_CFLAGS.
override PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers

EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: a changed struct must rebuild every object.
$(OBJS): $(wildcard src/*.h)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(STATE) $(CODE) $(SEED)
	cat $^ > $@

sql/$(EXTENSION)--%--$(EXTVERSION).sql: sql/upgrade/%--$(EXTVERSION).sql $(CODE)
	cat $^ > $@

.PHONY: test demo demo-stop bench

# Installs what is missing, builds, starts a throwaway cluster, runs every suite.
test:
	@bash test/run.sh

# Starts a demo cluster with a small agent_core workload and prints health().
demo:
	@bash examples/demo.sh start

demo-stop:
	@bash examples/demo.sh stop

bench:
	@for b in bench/*.sh; do bash $$b || exit 1; done
