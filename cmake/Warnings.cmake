# Warnings are errors-in-waiting: the tree builds with zero warnings under these flags.
add_library(mnemo_warnings INTERFACE)
target_compile_options(mnemo_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
option(MNEMO_WERROR "Treat warnings as errors" OFF)
if(MNEMO_WERROR)
  target_compile_options(mnemo_warnings INTERFACE -Werror)
endif()
