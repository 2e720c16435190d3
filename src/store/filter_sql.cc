// The SQL of filter expressions (filter_expr.h): every condition is 0 or 1, never NULL.
#include <string>
#include <variant>
#include <vector>

#include "store/filter_expr.h"
#include "util/json_codec.h"

namespace mnemo::store {
namespace {

using Json = nlohmann::json;
using Node = FilterNode;

std::string JsonArrayOf(const std::vector<SqlArg>& values) {
  Json a = Json::array();
  for (const SqlArg& v : values) std::visit([&](const auto& x) { a.push_back(x); }, v);
  return util::DumpJson(a);
}

// A JSON string or number as an SQL value.
SqlArg ScalarArg(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return v.get<int64_t>();
  return v.get<double>();
}

// The metadata value `cmp` v, where v is a string or a number: values of the other JSON
// types (and missing keys) compare false.
void MetaCompare(const std::string& path, const Json& v, std::string_view cmp, SqlWhere* w) {
  w->sql += "coalesce(json_type(m.metadata, ?)" +
            std::string(v.is_string() ? " = 'text'" : " IN ('integer', 'real')") +
            " AND json_extract(m.metadata, ?) " + std::string(cmp) + " ?, 0)";
  w->args.emplace_back(path);
  w->args.emplace_back(path);
  w->args.push_back(ScalarArg(v));
}

// Metadata value == v (a JSON scalar): same JSON type, same value; null also matches a
// missing key.
void MetaEquals(const std::string& path, const Json& v, SqlWhere* w) {
  if (v.is_null() || v.is_boolean()) {
    w->sql += v.is_null()     ? "coalesce(json_type(m.metadata, ?) = 'null', 1)"
              : v.get<bool>() ? "coalesce(json_type(m.metadata, ?) = 'true', 0)"
                              : "coalesce(json_type(m.metadata, ?) = 'false', 0)";
    w->args.emplace_back(path);
    return;
  }
  MetaCompare(path, v, "=", w);
}

void MetaCondition(const Node& n, SqlWhere* w) {
  const std::string path = MetadataPath(n.meta_key);
  const Json& v = n.operand;
  switch (n.op) {
    case FilterOp::kExists:
      w->sql += "json_type(m.metadata, ?) IS NOT NULL";
      w->args.emplace_back(path);
      return;
    case FilterOp::kEq:
    case FilterOp::kNe:
      if (n.op == FilterOp::kNe) w->sql += "NOT ";
      MetaEquals(path, v, w);
      return;
    case FilterOp::kIn:
    case FilterOp::kNin: {
      w->sql += n.op == FilterOp::kNin ? "NOT (0" : "(0";
      for (const Json& e : v) {
        w->sql += " OR ";
        MetaEquals(path, e, w);
      }
      w->sql += ")";
      return;
    }
    case FilterOp::kGt:
    case FilterOp::kGte:
    case FilterOp::kLt:
    case FilterOp::kLte: {
      MetaCompare(path, v,
                  n.op == FilterOp::kGt    ? ">"
                  : n.op == FilterOp::kGte ? ">="
                  : n.op == FilterOp::kLt  ? "<"
                                           : "<=",
                  w);
      return;
    }
    case FilterOp::kContains:
    case FilterOp::kIcontains: {
      // A text value: a substring; an array: an element (equal, or equal ignoring case).
      const bool fold = n.op == FilterOp::kIcontains;
      std::string element;
      if (v.is_string()) {
        element = fold ? "e.type = 'text' AND mnemo_fold(e.value) = ?"
                       : "e.type = 'text' AND e.value = ?";
      } else if (v.is_boolean()) {
        element = v.get<bool>() ? "e.type = 'true'" : "e.type = 'false'";
      } else if (v.is_null()) {
        element = "e.type = 'null'";
      } else {
        element = "e.type IN ('integer', 'real') AND e.value = ?";
      }
      w->sql +=
          "coalesce(CASE json_type(m.metadata, ?) WHEN 'array' THEN EXISTS(SELECT 1 FROM "
          "json_each(m.metadata, ?) e WHERE " +
          element + ")";
      w->args.emplace_back(path);
      w->args.emplace_back(path);
      if (v.is_string()) {
        w->args.push_back(n.values.empty() ? SqlArg(v.get<std::string>()) : n.values[0]);
      } else if (v.is_number()) {
        w->args.push_back(ScalarArg(v));
      }
      if (v.is_string()) {
        w->sql += fold ? " WHEN 'text' THEN instr(mnemo_fold(json_extract(m.metadata, ?)), ?) > 0"
                       : " WHEN 'text' THEN instr(json_extract(m.metadata, ?), ?) > 0";
        w->args.emplace_back(path);
        w->args.push_back(n.values.empty() ? SqlArg(v.get<std::string>()) : n.values[0]);
      }
      w->sql += " ELSE 0 END, 0)";
      return;
    }
  }
}

void TagsCondition(const Node& n, SqlWhere* w) {
  const std::string has = "m.id IN (SELECT memory_id FROM tags WHERE ";
  switch (n.op) {
    case FilterOp::kExists:
      w->sql += "m.id IN (SELECT memory_id FROM tags)";
      return;
    case FilterOp::kEq:
    case FilterOp::kContains:
    case FilterOp::kNe:
      w->sql += (n.op == FilterOp::kNe ? "NOT " : "") + has + "tag = ?)";
      w->args.push_back(n.values[0]);
      return;
    case FilterOp::kIcontains:
      w->sql += has + "mnemo_fold(tag) = ?)";
      w->args.push_back(n.values[0]);
      return;
    case FilterOp::kIn:
    case FilterOp::kNin:
      w->sql +=
          (n.op == FilterOp::kNin ? "NOT " : "") + has + "tag IN (SELECT value FROM json_each(?)))";
      w->args.emplace_back(JsonArrayOf(n.values));
      return;
    default:
      return;  // refused by the parser
  }
}

void ColumnCondition(const Node& n, SqlWhere* w) {
  const std::string c(n.column);
  // Only event_time may be NULL: a missing time fails every comparison but ne.
  const bool nullable = n.field_type == FilterField::kTime;
  auto compare = [&](std::string_view cmp) {
    w->sql += nullable
                  ? "coalesce(" + c + " " + std::string(cmp) + " ?, " + (cmp == "<>" ? "1)" : "0)")
                  : c + " " + std::string(cmp) + " ?";
    w->args.push_back(n.values[0]);
  };
  switch (n.op) {
    case FilterOp::kExists:
      w->sql += n.field_type == FilterField::kText ? c + " <> ''"
                : nullable                         ? c + " IS NOT NULL"
                                                   : "1";
      return;
    case FilterOp::kEq:
      return compare("=");
    case FilterOp::kNe:
      return compare("<>");
    case FilterOp::kGt:
      return compare(">");
    case FilterOp::kGte:
      return compare(">=");
    case FilterOp::kLt:
      return compare("<");
    case FilterOp::kLte:
      return compare("<=");
    case FilterOp::kIn:
    case FilterOp::kNin:
      w->sql +=
          c + (n.op == FilterOp::kNin ? " NOT IN" : " IN") + " (SELECT value FROM json_each(?))";
      w->args.emplace_back(JsonArrayOf(n.values));
      return;
    case FilterOp::kContains:
      w->sql += "instr(" + c + ", ?) > 0";
      w->args.push_back(n.values[0]);
      return;
    case FilterOp::kIcontains:
      w->sql += "instr(mnemo_fold(" + c + "), ?) > 0";
      w->args.push_back(n.values[0]);
      return;
  }
}

// Every condition is 0 or 1, never NULL, so NOT is the complement.
void NodeSql(const Node& n, SqlWhere* w) {
  switch (n.type) {
    case Node::Type::kAnd:
    case Node::Type::kOr: {
      w->sql += "(";
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) w->sql += n.type == Node::Type::kAnd ? " AND " : " OR ";
        NodeSql(n.children[i], w);
      }
      w->sql += ")";
      return;
    }
    case Node::Type::kNot:
      w->sql += "NOT (";
      NodeSql(n.children[0], w);
      w->sql += ")";
      return;
    case Node::Type::kCondition:
      w->sql += "(";
      if (n.field_type == FilterField::kMeta) {
        MetaCondition(n, w);
      } else if (n.field_type == FilterField::kTags) {
        TagsCondition(n, w);
      } else {
        ColumnCondition(n, w);
      }
      w->sql += ")";
      return;
  }
}

}  // namespace

std::string MetadataPath(std::string_view key) {
  std::string path = "$.\"";
  for (char c : key) {
    if (c == '"' || c == '\\') path += '\\';
    path += c;
  }
  path += "\"";
  return path;
}

void FilterExpression::AppendSql(SqlWhere* w) const {
  if (nodes_.empty()) return;
  w->cacheable = false;
  for (const Node& n : nodes_) {
    w->sql += " AND ";
    NodeSql(n, w);
  }
}

}  // namespace mnemo::store
