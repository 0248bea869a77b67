// libpq (Debian: libpq-dev), PostgreSQL's own client library, for `--db postgresql://…` (#30).
// Synchronous, as GRDB's calls are; its socket can be polled for LISTEN/NOTIFY.
#include <postgresql/libpq-fe.h>
