#include "store/filter_expr.h"

#include <array>
#include <utility>

#include "text/analyzer.h"
#include "util/json_codec.h"
#include "util/time_util.h"

namespace mnemo::store {
namespace {

using Json = nlohmann::json;
using Node = FilterNode;

struct FieldSpec {
  std::string_view name;
  FilterField type;
  std::string_view column;
};

// Memory fields by the names of their JSON form and Mem0's (user_id, agent_id, run_id,
// memory). Every other name needs the metadata. prefix.
constexpr std::array<FieldSpec, 19> kFields = {{
    {"id", FilterField::kInteger, "m.id"},
    {"user", FilterField::kText, "m.user_id"},
    {"user_id", FilterField::kText, "m.user_id"},
    {"agent", FilterField::kText, "m.agent_id"},
    {"agent_id", FilterField::kText, "m.agent_id"},
    {"session", FilterField::kText, "m.session_id"},
    {"session_id", FilterField::kText, "m.session_id"},
    {"run_id", FilterField::kText, "m.session_id"},
    {"role", FilterField::kText, "m.role"},
    {"speaker", FilterField::kText, "m.speaker"},
    {"text", FilterField::kText, "m.text"},
    {"memory", FilterField::kText, "m.text"},
    {"kind", FilterField::kKind, "m.kind"},
    {"time", FilterField::kTime, "m.event_time"},
    {"event_time", FilterField::kTime, "m.event_time"},
    {"created_at", FilterField::kTime, "m.created_at"},
    {"updated_at", FilterField::kTime, "m.updated_at"},
    {"importance", FilterField::kNumber, "m.importance"},
    {"tags", FilterField::kTags, ""},
}};

struct OpSpec {
  std::string_view name;
  FilterOp op;
};
constexpr std::array<OpSpec, 10> kOps = {{{"eq", FilterOp::kEq},
                                          {"ne", FilterOp::kNe},
                                          {"gt", FilterOp::kGt},
                                          {"gte", FilterOp::kGte},
                                          {"lt", FilterOp::kLt},
                                          {"lte", FilterOp::kLte},
                                          {"in", FilterOp::kIn},
                                          {"nin", FilterOp::kNin},
                                          {"contains", FilterOp::kContains},
                                          {"icontains", FilterOp::kIcontains}}};

std::string_view OpName(FilterOp op) {
  for (const OpSpec& o : kOps) {
    if (o.op == op) return o.name;
  }
  return "*";
}

std::string Quoted(std::string_view path) { return "\"" + std::string(path) + "\": "; }

Status Invalid(std::string_view path, std::string_view what) {
  return Status::InvalidArgument(Quoted(path) + std::string(what)).WithField(std::string(path));
}

Status TooLarge(std::string_view path, std::string_view what) {
  return Status::TooLarge(Quoted(path) + std::string(what)).WithField(std::string(path));
}

std::string FieldList() {
  std::string list;
  for (const FieldSpec& f : kFields) {
    if (!list.empty()) list += ", ";
    list += f.name;
  }
  return list;
}

bool IsOrdered(FilterField t) {
  return t == FilterField::kNumber || t == FilterField::kInteger || t == FilterField::kTime ||
         t == FilterField::kMeta;
}

// Which operators a field takes.
bool Applies(FilterOp op, FilterField t) {
  switch (op) {
    case FilterOp::kEq:
    case FilterOp::kNe:
    case FilterOp::kExists:
      return true;
    case FilterOp::kGt:
    case FilterOp::kGte:
    case FilterOp::kLt:
    case FilterOp::kLte:
      return IsOrdered(t);
    case FilterOp::kIn:
    case FilterOp::kNin:
      return t != FilterField::kTime;
    case FilterOp::kContains:
    case FilterOp::kIcontains:
      return t == FilterField::kText || t == FilterField::kTags || t == FilterField::kMeta;
  }
  return false;
}

std::string_view TypeName(FilterField t) {
  switch (t) {
    case FilterField::kText:
      return "a text field";
    case FilterField::kKind:
      return "kind";
    case FilterField::kNumber:
    case FilterField::kInteger:
      return "a number field";
    case FilterField::kTime:
      return "a time field";
    case FilterField::kTags:
      return "tags";
    case FilterField::kMeta:
      return "a metadata key";
  }
  return "";
}

class Parser {
 public:
  Status Expression(const Json& j, const std::string& path, int depth, std::vector<Node>* out);

 private:
  Status Conditions(const std::string& field, const Json& value, const std::string& path,
                    std::vector<Node>* out);
  Status Operand(Node* n, const Json& v, const std::string& path);
  Status OneValue(const Node& n, const Json& v, const std::string& path, bool ordered,
                  std::vector<SqlArg>* values);
  Status Group(Node::Type type, const Json& j, const std::string& path, int depth, Node* out);

  size_t conditions_ = 0;
};

// An expression object: its keys are ANDed (AND / OR / NOT and fields alike).
Status Parser::Expression(const Json& j, const std::string& path, int depth,
                          std::vector<Node>* out) {
  if (!j.is_object()) {
    return Invalid(path, "a filter expression must be an object, such as {\"user_id\": \"alice\"}");
  }
  if (depth > kMaxFilterDepth) {
    return TooLarge(path, "AND / OR / NOT nested deeper than " + std::to_string(kMaxFilterDepth));
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const std::string sub = path + "." + key;
    if (key == "AND" || key == "OR" || key == "NOT") {
      Node n;
      n.type = key == "AND" ? Node::Type::kAnd : key == "OR" ? Node::Type::kOr : Node::Type::kNot;
      MNEMO_RETURN_IF_ERROR(Group(n.type, it.value(), sub, depth + 1, &n));
      out->push_back(std::move(n));
    } else {
      MNEMO_RETURN_IF_ERROR(Conditions(key, it.value(), sub, out));
    }
  }
  return Status::Ok();
}

// One node for the conditions of an expression object: the condition itself when there
// is one, else their AND (whose AND children merge into it).
Node Conjunction(std::vector<Node> nodes) {
  if (nodes.size() == 1) return std::move(nodes[0]);
  Node all;
  all.type = Node::Type::kAnd;
  for (Node& n : nodes) {
    if (n.type == Node::Type::kAnd) {
      for (Node& c : n.children) all.children.push_back(std::move(c));
    } else {
      all.children.push_back(std::move(n));
    }
  }
  return all;
}

Status Parser::Group(Node::Type type, const Json& j, const std::string& path, int depth,
                     Node* out) {
  if (type == Node::Type::kNot && j.is_object()) {
    std::vector<Node> inner;
    MNEMO_RETURN_IF_ERROR(Expression(j, path, depth, &inner));
    if (inner.empty()) return Invalid(path, "NOT needs a condition");
    out->children.push_back(Conjunction(std::move(inner)));
    return Status::Ok();
  }
  if (!j.is_array() || j.empty()) {
    return Invalid(path, type == Node::Type::kNot
                             ? "NOT takes an expression object or a non-empty array of them"
                             : "AND and OR take a non-empty array of expression objects");
  }
  std::vector<Node> items;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    std::vector<Node> inner;
    MNEMO_RETURN_IF_ERROR(Expression(j[i], item, depth, &inner));
    if (inner.empty()) return Invalid(item, "an empty expression {} matches nothing here");
    items.push_back(Conjunction(std::move(inner)));
  }
  if (type == Node::Type::kNot) {  // NOT [a, b] = NOT (a AND b)
    out->children.push_back(Conjunction(std::move(items)));
  } else if (type == Node::Type::kAnd) {
    *out = Conjunction(std::move(items));  // an AND of one is that one
  } else {
    out->children = std::move(items);
  }
  return Status::Ok();
}

Status Parser::Conditions(const std::string& field, const Json& value, const std::string& path,
                          std::vector<Node>* out) {
  Node n;
  n.field = field;
  bool known = false;
  for (const FieldSpec& f : kFields) {
    if (f.name == field) {
      n.field_type = f.type;
      n.column = f.column;
      known = true;
    }
  }
  if (!known) {
    for (std::string_view prefix : {"metadata.", "meta."}) {
      if (field.starts_with(prefix) && field.size() > prefix.size()) {
        n.field_type = FilterField::kMeta;
        n.meta_key = field.substr(prefix.size());
        known = true;
        break;
      }
    }
  }
  if (!known) {
    std::string hint;
    if (field == "and" || field == "or" || field == "not") {
      hint = "; the logical operators are written AND, OR, NOT";
    } else if (!field.empty()) {
      hint = "; a metadata key is written metadata." + field;
    }
    return Invalid(path, "unknown field \"" + field + "\" (fields: " + FieldList() + hint + ")");
  }
  if (value.is_string() && value.get_ref<const std::string&>() == "*") {
    n.op = FilterOp::kExists;
    n.operand = value;
    if (++conditions_ > kMaxFilterConditions) {
      return TooLarge(path, "more than " + std::to_string(kMaxFilterConditions) +
                                " conditions in one filter expression");
    }
    out->push_back(std::move(n));
    return Status::Ok();
  }
  if (!value.is_object()) {
    if (value.is_array()) {
      return Invalid(path, "give one value, or an operator object such as {\"in\": [...]}");
    }
    n.op = FilterOp::kEq;
    MNEMO_RETURN_IF_ERROR(Operand(&n, value, path));
    out->push_back(std::move(n));
    return Status::Ok();
  }
  if (value.empty())
    return Invalid(path, "an operator object needs an operator, such as {\"eq\": ...}");
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string sub = path + "." + it.key();
    bool found = false;
    for (const OpSpec& o : kOps) {
      if (o.name == it.key()) {
        n.op = o.op;
        found = true;
      }
    }
    if (!found) {
      return Invalid(sub, "unknown operator \"" + it.key() +
                              "\" (operators: eq, ne, gt, gte, lt, lte, in, nin, contains, "
                              "icontains; \"*\" as the value: the field is present)");
    }
    Node c = n;
    MNEMO_RETURN_IF_ERROR(Operand(&c, it.value(), sub));
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

Status Parser::Operand(Node* n, const Json& v, const std::string& path) {
  if (++conditions_ > kMaxFilterConditions) {
    return TooLarge(path, "more than " + std::to_string(kMaxFilterConditions) +
                              " conditions in one filter expression");
  }
  if (!Applies(n->op, n->field_type)) {
    return Invalid(path, "operator " + std::string(OpName(n->op)) + " does not apply to " +
                             std::string(TypeName(n->field_type)) + " (" + n->field + ")");
  }
  n->operand = v;
  const bool ordered = n->op == FilterOp::kGt || n->op == FilterOp::kGte ||
                       n->op == FilterOp::kLt || n->op == FilterOp::kLte;
  if (n->op == FilterOp::kIn || n->op == FilterOp::kNin) {
    if (!v.is_array()) return Invalid(path, "in and nin take an array of values");
    if (v.size() > kMaxFilterValues) {
      return TooLarge(
          path, std::to_string(v.size()) + " values; at most " + std::to_string(kMaxFilterValues));
    }
    for (size_t i = 0; i < v.size(); ++i) {
      MNEMO_RETURN_IF_ERROR(
          OneValue(*n, v[i], path + "[" + std::to_string(i) + "]", false, &n->values));
    }
    return Status::Ok();
  }
  if (n->op == FilterOp::kIcontains ||
      (n->op == FilterOp::kContains && n->field_type != FilterField::kMeta)) {
    if (!v.is_string()) return Invalid(path, std::string(OpName(n->op)) + " takes a string");
    const std::string& s = v.get_ref<const std::string&>();
    n->values.emplace_back(n->op == FilterOp::kIcontains ? text::FoldCase(s) : s);
    return Status::Ok();
  }
  return OneValue(*n, v, path, ordered, &n->values);
}

// One comparison value of the field's type, appended to `values` (metadata values stay
// in the operand).
Status Parser::OneValue(const Node& n, const Json& v, const std::string& path, bool ordered,
                        std::vector<SqlArg>* values) {
  switch (n.field_type) {
    case FilterField::kText:
    case FilterField::kTags:
      if (!v.is_string()) return Invalid(path, "expected a string");
      values->emplace_back(v.get<std::string>());
      return Status::Ok();
    case FilterField::kKind: {
      if (!v.is_string()) return Invalid(path, "expected a kind name");
      auto kind = ParseKind(v.get_ref<const std::string&>());
      if (!kind.ok()) return Invalid(path, kind.status().message());
      values->emplace_back(static_cast<int64_t>(*kind));
      return Status::Ok();
    }
    case FilterField::kInteger:
      if (!v.is_number_integer()) return Invalid(path, "expected an integer");
      values->emplace_back(v.get<int64_t>());
      return Status::Ok();
    case FilterField::kNumber:
      if (!v.is_number()) return Invalid(path, "expected a number");
      values->emplace_back(v.get<double>());
      return Status::Ok();
    case FilterField::kTime: {
      if (!v.is_string()) return Invalid(path, "expected an ISO 8601 time such as \"2024-07-01\"");
      auto t = util::ParseIso8601(v.get_ref<const std::string&>());
      if (!t.ok()) return Invalid(path, t.status().message());
      values->emplace_back(static_cast<int64_t>(*t));
      return Status::Ok();
    }
    case FilterField::kMeta:
      if (ordered ? !(v.is_string() || v.is_number()) : v.is_structured()) {
        return Invalid(path, ordered ? "gt, gte, lt and lte compare with a string or a number"
                                     : "expected a string, number, boolean or null");
      }
      return Status::Ok();
  }
  return Status::Ok();
}

Json NodeJson(const Node& n) {
  switch (n.type) {
    case Node::Type::kAnd:
    case Node::Type::kOr: {
      Json items = Json::array();
      for (const Node& c : n.children) items.push_back(NodeJson(c));
      return Json{{n.type == Node::Type::kAnd ? "AND" : "OR", std::move(items)}};
    }
    case Node::Type::kNot:
      return Json{{"NOT", NodeJson(n.children[0])}};
    case Node::Type::kCondition:
      if (n.op == FilterOp::kExists) return Json{{n.field, "*"}};
      return Json{{n.field, Json{{std::string(OpName(n.op)), n.operand}}}};
  }
  return Json::object();
}

}  // namespace

Result<FilterExpression> FilterExpression::Parse(std::string_view json) {
  FilterExpression e;
  if (json.empty()) return e;
  auto j = util::ParseJson(json);
  if (!j.ok()) return Invalid("filters", j.status().message());
  Parser p;
  std::vector<Node> nodes;
  MNEMO_RETURN_IF_ERROR(p.Expression(*j, "filters", 0, &nodes));
  // The top level as one flat conjunction, so that HoistScope sees {"AND": [...]} too.
  Node all = Conjunction(std::move(nodes));
  if (all.type == Node::Type::kAnd) {
    e.nodes_ = std::move(all.children);
  } else {
    e.nodes_.push_back(std::move(all));
  }
  return e;
}

Status FilterExpression::HoistScope(Filter* f) {
  std::vector<Node> kept;
  for (Node& n : nodes_) {
    std::string* target = nullptr;
    std::string_view name;
    if (n.type == Node::Type::kCondition && n.op == FilterOp::kEq) {
      if (n.column == "m.user_id" && !f->all_users) {
        target = &f->user_id;
        name = "user";
      } else if (n.column == "m.agent_id") {
        target = &f->agent_id;
        name = "agent";
      } else if (n.column == "m.session_id") {
        target = &f->session_id;
        name = "session";
      }
    }
    if (!target) {
      kept.push_back(std::move(n));
      continue;
    }
    const std::string& value = std::get<std::string>(n.values[0]);
    if (!target->empty() && *target != value) {
      return Invalid("filters." + n.field, "\"" + value + "\" contradicts " + std::string(name) +
                                               " \"" + *target + "\" given with it");
    }
    *target = value;
  }
  nodes_ = std::move(kept);
  return Status::Ok();
}

std::string FilterExpression::ToJson() const {
  if (nodes_.empty()) return "";
  if (nodes_.size() == 1) return util::DumpJson(NodeJson(nodes_[0]));
  Json items = Json::array();
  for (const Node& n : nodes_) items.push_back(NodeJson(n));
  return util::DumpJson(Json{{"AND", std::move(items)}});
}

}  // namespace mnemo::store
