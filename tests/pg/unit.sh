#!/bin/bash
# The store's C unit tests against a throwaway PostgreSQL cluster: start one, hand its
# URL to tests/unit/t_store_pg in MCP_AUTHD_TEST_PG_URL, stop it.
: "${TOP_SRCDIR:=.}" "${TOP_BUILDDIR:=.}"
. "$TOP_SRCDIR/tests/pg/cluster.sh"
pg_available || { echo "1..0 # SKIP PostgreSQL 15 is not installed"; exit 0; }
trap 'pg_stop_throwaway' EXIT
pg_start_throwaway || { echo "Bail out! cannot start a PostgreSQL cluster"; exit 1; }
MCP_AUTHD_TEST_PG_URL=$PG_URL ${UNIT_WRAPPER:-} "$TOP_BUILDDIR/tests/unit/t_store_pg"
