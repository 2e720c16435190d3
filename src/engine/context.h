// Profiles (core memory) and context assembly, built on the Engine's public operations
// (docs/lifecycle.md, "Profile" and "Context"). EngineImpl forwards Engine::GetProfile,
// EditProfile and BuildContext here.
//
// Thread safety: as the Engine's operations they call (safe concurrently).
#pragma once

#include <string>

#include "mnemo/engine.h"

namespace mnemo::engine {

// At most `limit` entries, none from a memory with a label of `exclude_labels`.
Result<Profile> ReadProfile(Engine& e, const std::string& space, const std::string& user, int limit,
                            LabelSet exclude_labels = 0);

// Each `set` adds a fact for the slot (origin user, metadata {"slot","value","subject",
// "profile": true}) and retires the slot's other memories, closing their validity at `now`;
// each `unset` retires the slot's memories. Returns the profile after the edit.
Result<Profile> ApplyProfileEdit(Engine& e, const std::string& space, const ProfileEdit& edit,
                                 TimeMs now);

Result<ContextResult> AssembleContext(Engine& e, const std::string& space,
                                      const ContextRequest& request, TimeMs now);

}  // namespace mnemo::engine
