# What `cmake --install` installs, in three components that are also the Debian packages
# of cmake/Packaging.cmake:
#   mnemo  the command line and server: bin/mnemo, its manual page and bash completion,
#          the systemd unit and the config files of the service (packaging/)
#   lib    libmnemo.so.X.Y
#   dev    the public headers, the libmnemo.so link, mnemo.pc and the CMake package
#          (find_package(mnemo) -> mnemo::mnemo)
include(CMakePackageConfigHelpers)

set(MNEMO_CONFIG_DIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/mnemo)
set(MNEMO_STATE_DIR ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/mnemo)
# Debian 12 keeps the units of packages in /lib/systemd/system. (Absolute destinations
# follow the prefix configured last: /usr puts the config in /etc, not /usr/etc.)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(MNEMO_SYSTEMD_UNIT_DIR /lib/systemd/system)
else()
  set(MNEMO_SYSTEMD_UNIT_DIR ${CMAKE_INSTALL_FULL_LIBDIR}/systemd/system)
endif()
set(packaging ${PROJECT_SOURCE_DIR}/packaging)

# mnemo: the command line and the service.
install(TARGETS mnemo_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT mnemo)
install(FILES ${MNEMO_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT mnemo)
install(FILES ${MNEMO_BASH_COMPLETION} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME mnemo COMPONENT mnemo)
configure_file(${packaging}/mnemo.service.in ${PROJECT_BINARY_DIR}/packaging/mnemo.service @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/mnemo.service DESTINATION ${MNEMO_SYSTEMD_UNIT_DIR}
        COMPONENT mnemo)
install(FILES ${packaging}/server.json DESTINATION ${MNEMO_CONFIG_DIR} COMPONENT mnemo)
install(FILES ${packaging}/mnemo.env DESTINATION ${MNEMO_CONFIG_DIR}
        PERMISSIONS OWNER_READ OWNER_WRITE COMPONENT mnemo)

# lib and dev: libmnemo.so and what a C++ program needs to build against it.
if(MNEMO_SHARED_LIBRARY)
  install(TARGETS mnemo_shared EXPORT mnemoTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mnemo DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT dev FILES_MATCHING PATTERN "*.h")
  install(FILES ${PROJECT_BINARY_DIR}/include/mnemo/version.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mnemo COMPONENT dev)
  configure_file(${packaging}/mnemo.pc.in ${PROJECT_BINARY_DIR}/packaging/mnemo.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/mnemo.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
          COMPONENT dev)
  set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/mnemo)
  install(EXPORT mnemoTargets NAMESPACE mnemo:: DESTINATION ${cmake_dir} COMPONENT dev)
  configure_package_config_file(${packaging}/mnemoConfig.cmake.in
                                ${PROJECT_BINARY_DIR}/packaging/mnemoConfig.cmake
                                INSTALL_DESTINATION ${cmake_dir})
  # Before 1.0 a minor release may break the API: only the same X.Y is compatible.
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/packaging/mnemoConfigVersion.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/packaging/mnemoConfig.cmake
                ${PROJECT_BINARY_DIR}/packaging/mnemoConfigVersion.cmake
          DESTINATION ${cmake_dir} COMPONENT dev)
endif()
