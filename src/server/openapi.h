// The OpenAPI 3.1 document of the HTTP API (docs/openapi.json), compiled into the
// binary and served at /openapi.json.
#pragma once

#include <string_view>

namespace mnemo::server {

std::string_view OpenApiDocument();

}  // namespace mnemo::server
