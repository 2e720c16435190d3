# Debian packages with CPack (scripts/package.sh): one per install component of
# cmake/Install.cmake.
#   mnemo            the binary (stripped), mnemo(1), bash completion, mnemo.service
#   libmnemo<X.Y>    libmnemo.so.X.Y (before 1.0 the soname changes with every minor)
#   libmnemo-dev     headers, libmnemo.so, mnemo.pc, the CMake package
# Dependencies on shared libraries come from dpkg-shlibdeps (dpkg-dev).
set(MNEMO_LIB_PACKAGE libmnemo${MNEMO_SOVERSION})
set(MNEMO_MAINTAINER "The mnemo developers <maintainers@mnemo.invalid>")
set(doc_dir ${CMAKE_INSTALL_DATADIR}/doc)

# Each package's copyright and changelog (Debian policy 12.5 and 12.7); the changelog's
# date is $SOURCE_DATE_EPOCH when set.
string(TIMESTAMP changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
foreach(pkg mnemo ${MNEMO_LIB_PACKAGE} libmnemo-dev)
  if(pkg STREQUAL "mnemo")
    set(component mnemo)
  elseif(pkg STREQUAL "libmnemo-dev")
    set(component dev)
  else()
    set(component lib)
  endif()
  if(NOT MNEMO_SHARED_LIBRARY AND NOT component STREQUAL "mnemo")
    continue()
  endif()
  set(changelog ${PROJECT_BINARY_DIR}/packaging/${pkg}/changelog)
  file(WRITE ${changelog}
       "${pkg} (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
       "  * Release ${PROJECT_VERSION}.\n\n"
       " -- ${MNEMO_MAINTAINER}  ${changelog_date}\n")
  execute_process(COMMAND gzip -9nf ${changelog} COMMAND_ERROR_IS_FATAL ANY)
  install(FILES ${changelog}.gz ${PROJECT_SOURCE_DIR}/packaging/debian/copyright
          DESTINATION ${doc_dir}/${pkg} COMPONENT ${component})
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mnemo)
set(CPACK_PACKAGE_VENDOR "The mnemo developers")
set(CPACK_PACKAGE_CONTACT "${MNEMO_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL mnemo)
if(MNEMO_SHARED_LIBRARY)
  list(APPEND CPACK_COMPONENTS_ALL lib dev)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_MNEMO_PACKAGE_NAME mnemo)
set(CPACK_DEBIAN_MNEMO_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_MNEMO_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_MNEMO_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_MNEMO_DESCRIPTION
    "long-term memory for LLM agents: server, MCP and command line\n"
    "mnemo stores what an agent's conversations said and did, derives facts,\n"
    "preferences and summaries from them, keeps them current and recalls the\n"
    "right ones in milliseconds (hybrid lexical, vector, time and entity\n"
    "search). It needs no model; any OpenAI-compatible endpoint improves it.\n"
    "The mnemo service serves the HTTP API and MCP on 127.0.0.1:8420, with its\n"
    "data in /var/lib/mnemo.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME ${MNEMO_LIB_PACKAGE})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/lib/triggers ${PROJECT_SOURCE_DIR}/packaging/debian/lib/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/lib/postrm)
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_COMPONENT_LIB_DESCRIPTION
    "long-term memory engine for LLM agents (shared library)\n"
    "The mnemo engine as a C++ library: spaces of memories with hybrid search,\n"
    "derivation, lifecycle and token-budgeted context, in one data folder.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libmnemo-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${MNEMO_LIB_PACKAGE} (= ${PROJECT_VERSION})")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "long-term memory engine for LLM agents (development files)\n"
    "Headers of the mnemo C++ API (C++20), the libmnemo.so link, mnemo.pc for\n"
    "pkg-config and a CMake package: find_package(mnemo) gives mnemo::mnemo.")

include(CPack)
