// The filter language of Filter::expression (docs/api.md, "Filter expressions"): JSON
// conditions over memory fields and metadata keys, combined with AND / OR / NOT, parsed
// and checked here (the one place that validates them) and compiled to SQL over alias m.
//
//   {"AND": [{"importance": {"gte": 0.5}},
//            {"OR": [{"metadata.topic": {"in": ["work", "travel"]}}, {"tags": "urgent"}]},
//            {"NOT": {"created_at": {"lt": "2024-01-01"}}}]}
//
// Thread safety: values; no shared state.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mnemo/query.h"
#include "mnemo/status.h"

namespace mnemo::store {

using SqlArg = std::variant<int64_t, double, std::string>;
struct SqlWhere {
  std::string sql;  // " AND ..." fragments over alias m
  std::vector<SqlArg> args;
  // False when the SQL's shape depends on the request (a filter expression): such
  // statements are not kept in the connection's statement cache, which would grow
  // without bound.
  bool cacheable = true;
};

// The SQLite JSON path of a top-level metadata key, quoted so that any character may
// appear in the key.
std::string MetadataPath(std::string_view key);

// Limits of one expression; past them the parse is a TooLarge error.
inline constexpr size_t kMaxFilterConditions = 64;  // comparisons in all
inline constexpr size_t kMaxFilterValues = 1000;    // values of one "in" / "nin" list
inline constexpr int kMaxFilterDepth = 8;           // AND / OR / NOT nested in each other

enum class FilterOp : uint8_t {
  kEq,
  kNe,
  kGt,
  kGte,
  kLt,
  kLte,
  kIn,
  kNin,
  kContains,
  kIcontains,
  kExists
};
// What a condition compares: a memory column of some type, the tags, or a metadata key.
enum class FilterField : uint8_t { kText, kKind, kNumber, kInteger, kTime, kTags, kMeta };

struct FilterNode {
  enum class Type : uint8_t { kAnd, kOr, kNot, kCondition };
  Type type = Type::kCondition;
  std::vector<FilterNode> children;  // AND, OR: one or more; NOT: one
  // A condition:
  std::string field;  // as written: "user_id", "metadata.topic"
  FilterField field_type = FilterField::kText;
  std::string_view column;  // memory fields: the SQL column
  std::string meta_key;     // kMeta: the key
  FilterOp op = FilterOp::kEq;
  nlohmann::json operand;      // as written (checked); kExists: "*"
  std::vector<SqlArg> values;  // the operand for SQL: times in ms, kinds as numbers
};

class FilterExpression {
 public:
  // Parses and checks the JSON text of an expression. Errors are InvalidArgument (TooLarge
  // past the limits above) and start with the quoted path of the offending part, rooted
  // at "filters": "\"filters.AND[1].price.gtt\": unknown operator ...". An empty object
  // is the empty expression.
  static Result<FilterExpression> Parse(std::string_view json);

  // Moves top-level conditions `user_id|agent_id|run_id == "x"` into the plain fields of
  // `f` (which the lexical index evaluates, and which satisfy the search scope rule).
  // A condition that contradicts a field `f` already names is an error naming both.
  // A user condition stays in the expression when `f` searches all users.
  Status HoistScope(Filter* f);

  bool empty() const { return nodes_.empty(); }
  // The expression as JSON text (parses back to the same expression); "" when empty.
  std::string ToJson() const;
  // Appends " AND (...)" to `w` unless empty.
  void AppendSql(SqlWhere* w) const;

 private:
  std::vector<FilterNode> nodes_;  // a conjunction; empty: no condition
};

}  // namespace mnemo::store
