# Every dependency comes from a Debian package (scripts/setup.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto)  # SHA-256 of API keys, random key material
find_package(CURL 7.74 REQUIRED)  # OpenAI-compatible model providers (src/llm)

# jemalloc (libjemalloc-dev): the allocator of the mnemo binary and the benchmarks.
# mnemo_allocator links it where MNEMO_JEMALLOC is on, and nothing otherwise.
add_library(mnemo_allocator INTERFACE)
if(MNEMO_JEMALLOC)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  target_link_libraries(mnemo_allocator INTERFACE PkgConfig::JEMALLOC)
endif()

# Snowball stemmers (libstemmer-dev) ship no CMake config or pkg-config file.
find_path(STEMMER_INCLUDE_DIR libstemmer.h REQUIRED)
find_library(STEMMER_LIBRARY stemmer REQUIRED)
add_library(stemmer::stemmer UNKNOWN IMPORTED)
set_target_properties(stemmer::stemmer PROPERTIES
  IMPORTED_LOCATION ${STEMMER_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${STEMMER_INCLUDE_DIR})

if(MNEMO_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(MNEMO_BUILD_BENCH)
  find_package(benchmark REQUIRED)
  # hnswlib (libhnswlib-dev), the baseline of the vector benchmarks: header-only, no
  # CMake config.
  find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h REQUIRED)
  add_library(hnswlib::hnswlib INTERFACE IMPORTED)
  target_include_directories(hnswlib::hnswlib SYSTEM INTERFACE ${HNSWLIB_INCLUDE_DIR})
endif()
