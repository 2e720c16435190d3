#include "mnemo/version.h"

namespace mnemo {

const char* Version() { return MNEMO_VERSION; }

}  // namespace mnemo
