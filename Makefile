# pgmaint: PostgreSQL maintenance extension (PGXS build)

EXTENSION = pgmaint
EXTVERSION = 1.1

MODULE_big = pgmaint
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The current version's install script is assembled from one fragment per
# concern; released versions' scripts are frozen and reached by the
# hand-written upgrade scripts.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
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

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql))
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
