// memstore.h — a job store in memory, behind store.h's operations table:
// the same verbs and semantics as the SQLite backend (conditional verbs,
// transactions with rollback, store-assigned event seqs), nothing on disk.
// For fast tests of the scheduler and for the store contract tests.
//
// Not thread-safe, and no readers: sje__store_open_reader answers
// SJE_EUNIMPL (the hook thread needs a backend that can share its data).
#ifndef SJE_TESTS_MEMSTORE_H
#define SJE_TESTS_MEMSTORE_H

#include "store/store.h"

// sje__memstore_open makes an empty memory store. *out is written on
// SJE_OK; caller owns it (sje__store_close). SJE_ENOMEM.
sje_err sje__memstore_open(sje__store **out);

#endif // SJE_TESTS_MEMSTORE_H
