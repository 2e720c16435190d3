// mnemo/embedder.h — turns text into vectors.
//
// mnemo ships a `builtin` embedder that needs no model file and no network and is
// deterministic (see src/embed/README.md). Other embedders (an OpenAI-compatible
// endpoint, a test fake) implement this interface.
//
// Thread safety: implementations must be safe for concurrent calls to Embed() from
// multiple threads without external synchronization.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/status.h"

namespace mnemo {

// What one Embed call cost at a provider (remote embedders; the builtin one costs nothing).
struct EmbedUsage {
  int64_t requests = 0;  // HTTP requests made, retries included
  int64_t tokens = 0;    // prompt tokens as reported by the provider
};

class Embedder {
 public:
  virtual ~Embedder() = default;

  // Stable identifier of the model and its configuration, e.g. "builtin-v1-256". Stored
  // with every vector: a space whose vectors came from another id refuses to mix them.
  virtual std::string id() const = 0;
  virtual int dimension() const = 0;

  // Embeds each text into `out` (resized to texts.size()), each vector of dimension()
  // floats, L2-normalised (a zero vector is allowed for text with no features).
  virtual Status Embed(const std::vector<std::string_view>& texts,
                       std::vector<std::vector<float>>* out) const = 0;
  // Embed() that also reports what the call cost (added to *usage). The default reports
  // nothing; remote embedders override it so the engine can account usage per space.
  virtual Status EmbedCounted(const std::vector<std::string_view>& texts,
                              std::vector<std::vector<float>>* out, EmbedUsage* usage) const {
    (void)usage;
    return Embed(texts, out);
  }
};

}  // namespace mnemo
