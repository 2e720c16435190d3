#include "read/query.h"

#include <unordered_set>

#include "text/analyzer.h"

namespace mnemo::read {

std::vector<std::string> QueryTerms(std::string_view query) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (auto& t : text::Terms(query)) {
    if (seen.insert(t).second) out.push_back(std::move(t));
  }
  return out;
}

std::string MatchExpression(const std::vector<std::string>& terms, const std::string& scope_token) {
  if (terms.empty()) return {};
  std::string expr = "(";
  for (size_t i = 0; i < terms.size(); ++i) {
    if (i) expr += " OR ";
    expr += "{text speaker}:\"";
    for (char c : terms[i]) {
      if (c == '"') expr += '"';  // FTS5 escapes a quote inside a string by doubling it
      expr += c;
    }
    expr += "\"";
  }
  expr += ")";
  if (!scope_token.empty()) expr += " AND scope:\"" + scope_token + "\"";
  return expr;
}

}  // namespace mnemo::read
