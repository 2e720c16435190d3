// mnemo._native: the engine in-process for the Python package (python/mnemo).
//
// One class, NativeEngine, holds an open Engine and runs the operations of the api layer
// (server/ops.h, the ones REST and MCP run) by name, JSON in and JSON out. Python turns
// an error answer into its typed exception (python/mnemo/errors.py), so the embedded
// Memory and the HTTP Client raise the same errors for the same input.
//
// Thread safety: Call may run from many Python threads at once; it releases the GIL while
// the engine works. Close waits for calls in flight, and later calls answer
// "failed_precondition". The Engine is destroyed before the interpreter exits (Python's
// Memory.close, its context manager, or at the latest the module's atexit hook).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.h"
#include "mnemo/engine.h"
#include "mnemo/version.h"
#include "server/ops.h"

namespace py = pybind11;

namespace mnemo::python {
namespace {

using server::ApiError;
using util::Json;

// An operation's answer as Python receives it: (0, result JSON) or (HTTP status, error
// JSON of server/errors.h).
using Answer = std::pair<int, std::string>;

Answer ErrorAnswer(const ApiError& e) {
  return {e.http_status, util::DumpJson(server::ErrorJson(e))};
}

class NativeEngine {
 public:
  // Opens (creating when missing) the data directory `path` with its configuration
  // (DIR/config.json, MNEMO_* variables, then `overrides` as KEY=VALUE).
  static std::pair<int, std::variant<std::string, std::shared_ptr<NativeEngine>>> Open(
      const std::string& path, const std::vector<std::string>& overrides,
      const std::string& actor) {
    auto fail = [](const Status& s) {
      return std::pair<int, std::variant<std::string, std::shared_ptr<NativeEngine>>>(
          ErrorAnswer(server::FromStatus(s, s.field() == "set" ? "settings" : "path")));
    };
    std::unique_ptr<Engine> engine;
    {
      py::gil_scoped_release unlocked;
      const auto env = config::ProcessEnvironment();
      auto cfg = config::Load(path, overrides, env);
      if (!cfg.ok()) return fail(cfg.status());
      auto options = config::ToOptions(*cfg, env);
      if (!options.ok()) return fail(options.status());
      options->create_if_missing = true;
      auto opened = Engine::Open(path, *options);
      if (!opened.ok()) return fail(opened.status());
      engine = std::move(opened).value();
    }
    return {0, std::make_shared<NativeEngine>(std::move(engine), actor)};
  }

  NativeEngine(std::unique_ptr<Engine> engine, std::string actor)
      : engine_(std::move(engine)), actor_(std::move(actor)) {
    principal_.unrestricted = true;  // in-process: the caller owns the data directory
  }

  Answer Call(const std::string& op, const std::string& args_json) {
    py::gil_scoped_release unlocked;
    std::shared_lock lock(mu_);
    if (!engine_) {
      return ErrorAnswer(ApiError{409, "failed_precondition", "this Memory is closed", ""});
    }
    auto args = util::ParseJson(args_json);
    if (!args.ok())
      return ErrorAnswer(server::BadRequest("malformed_json", args.status().message()));
    const server::ops::Context ctx{*engine_, principal_, limits_, actor_};
    auto r = server::ops::Call(ctx, op, *args);
    if (!r.ok()) return ErrorAnswer(r.error());
    return {0, util::DumpJson(r.value())};
  }

  // Snapshots and closes the engine (waits for calls in flight). Idempotent.
  void Close() {
    py::gil_scoped_release unlocked;
    std::unique_lock lock(mu_);
    engine_.reset();
  }

  bool closed() {
    std::shared_lock lock(mu_);
    return engine_ == nullptr;
  }

 private:
  std::shared_mutex mu_;
  std::unique_ptr<Engine> engine_;  // null once closed
  server::Principal principal_;
  server::Limits limits_;
  std::string actor_;
};

}  // namespace
}  // namespace mnemo::python

PYBIND11_MODULE(_native, m) {
  using mnemo::python::NativeEngine;
  m.doc() = "mnemo's engine in-process (use mnemo.Memory, not this module)";
  py::class_<NativeEngine, std::shared_ptr<NativeEngine>>(m, "NativeEngine")
      .def_static("open", &NativeEngine::Open, py::arg("path"), py::arg("overrides"),
                  py::arg("actor"))
      .def("call", &NativeEngine::Call, py::arg("op"), py::arg("args_json"))
      .def("close", &NativeEngine::Close)
      .def_property_readonly("closed", &NativeEngine::closed);
  m.attr("__version__") = MNEMO_VERSION;
}
