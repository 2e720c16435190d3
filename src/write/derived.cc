#include "write/derived.h"

namespace mnemo::write {

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kAdd:
      return "add";
    case Decision::kSupersede:
      return "supersede";
    case Decision::kMerge:
      return "merge";
    case Decision::kNoop:
      return "noop";
  }
  return "add";
}

}  // namespace mnemo::write
