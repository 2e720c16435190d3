// Query analysis: from a user's query text to an FTS5 MATCH expression.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mnemo::read {

// The distinct terms of the query (text::Terms), in first-occurrence order.
std::vector<std::string> QueryTerms(std::string_view query);

// `({text speaker}:"t1" OR ...)`, followed by ` AND scope:"<token>"` when scope_token is not
// empty. Returns "" when there are no terms (nothing for BM25 to match).
std::string MatchExpression(const std::vector<std::string>& terms, const std::string& scope_token);

}  // namespace mnemo::read
