#include "mnemo/search_params.h"

#include <cmath>
#include <cstdio>

namespace mnemo {
namespace {

// Weights have no natural upper bound; 1000 is far beyond any useful value (the defaults
// are 0.05 to 2) and keeps scores finite.
constexpr double kMaxWeight = 1000;

const SearchParam kParams[] = {
    {"lexical_weight", &SearchRequest::lexical_weight, nullptr, 0, kMaxWeight,
     "weight of the lexical (BM25) signal in the fusion; 0 turns it off"},
    {"vector_weight", &SearchRequest::vector_weight, nullptr, 0, kMaxWeight,
     "weight of the vector signal in the fusion; 0 turns it off"},
    {"rrf_k", nullptr, &SearchRequest::rrf_k, 1, 100000,
     "reciprocal-rank fusion constant: a signal adds weight / (rrf_k + rank)"},
    {"context_weight", &SearchRequest::context_weight, nullptr, 0, kMaxWeight,
     "share of the scores of a result's session neighbours it earns (0 = off)"},
    {"session_weight", &SearchRequest::session_weight, nullptr, 0, kMaxWeight,
     "share of the best score in the result's session it earns (0 = off)"},
    {"date_weight", &SearchRequest::date_weight, nullptr, 0, kMaxWeight,
     "boost of matches in a period the query names: score x (1 + weight) (0 = off)"},
    {"retention_weight", &SearchRequest::retention_weight, nullptr, 0, 1,
     "weight of the memories' retention (forgetting curve) in [0, 1] (0 = off)"},
    {"summary_weight", &SearchRequest::summary_weight, nullptr, 0, 1,
     "factor of a derived summary's score in [0, 1] (1 = as any memory)"},
    {"summary_episodes", nullptr, &SearchRequest::summary_episodes, 0, 20,
     "episodes a summary result brings after it, best first (0 = off)"},
    {"min_score", &SearchRequest::min_score, nullptr, 0, 1e6,
     "leave out results scoring below this (0 = keep all; the fusion's scale)"},
};

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

double SearchParam::Default() const { return Get(SearchRequest{}); }

double SearchParam::Get(const SearchRequest& r) const {
  return number != nullptr ? r.*number : static_cast<double>(r.*integer);
}

void SearchParam::Set(SearchRequest* r, double v) const {
  if (number != nullptr) {
    r->*number = v;
  } else {
    r->*integer = static_cast<int>(v);
  }
}

std::string SearchParam::Flag() const {
  std::string f = std::string("--") + name;
  for (char& c : f) {
    if (c == '_') c = '-';
  }
  return f;
}

std::span<const SearchParam> SearchParams() { return kParams; }

const SearchParam* FindSearchParam(std::string_view name) {
  for (const SearchParam& p : kParams) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

Status CheckSearchParams(const SearchRequest& r) {
  for (const SearchParam& p : kParams) {
    const double v = p.Get(r);
    if (!std::isfinite(v) || v < p.min || v > p.max) {
      return Status::InvalidArgument(std::string(p.name) + " must be between " + Number(p.min) +
                                     " and " + Number(p.max) + ", got " + Number(v))
          .WithField(std::string(p.name));
    }
  }
  if (r.lexical_weight == 0 && r.vector_weight == 0) {
    return Status::InvalidArgument(
               "lexical_weight and vector_weight are both 0: at least one signal must be on")
        .WithField("vector_weight");
  }
  return Status::Ok();
}

}  // namespace mnemo
