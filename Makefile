# pgmaint: PostgreSQL maintenance extension (PGXS build)

EXTENSION = pgmaint
EXTVERSION = 1.1

MODULE_big = pgmaint
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The current version's install script is assembled from one fragment per
# concern; released versions' scripts are frozen and reached by the
# hand-written upgrade scripts.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
SCRIPTS = bin/pgmaint_backup

# Every sql/NAME.sql except install and upgrade scripts is a regression test.
REGRESS = $(sort $(filter-out $(EXTENSION)--%,$(basename $(notdir $(wildcard sql/*.sql)))))
# pg_regress starts a temporary instance of its own with test/regress.conf
# (pgmaint preloaded): `make installcheck` needs nothing else running.
REGRESS_OPTS = --load-extension=$(EXTENSION) --temp-instance=./tmp_check \
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
	@bash test/demo.sh start

demo-stop:
	@bash test/demo.sh stop

bench:
	@for b in bench/*.sh; do bash $$b || exit 1; done
