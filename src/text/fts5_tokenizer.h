// The "mnemo" FTS5 tokenizer: indexes documents with text::ForEachTerm. In query mode
// (FTS5_TOKENIZE_QUERY) it passes tokens through lower-cased only, because mnemo builds
// MATCH expressions from terms that text::Terms already produced (stemming twice is not
// idempotent).
//
// Thread safety: registration is per connection; the tokenizer itself is stateless.
#pragma once

#include <sqlite3.h>

#include "mnemo/status.h"

namespace mnemo::text {

// Registers the tokenizer named "mnemo" on `db`. Use it as
//   CREATE VIRTUAL TABLE t USING fts5(text, tokenize='mnemo')
Status RegisterFts5Tokenizer(sqlite3* db);

}  // namespace mnemo::text
