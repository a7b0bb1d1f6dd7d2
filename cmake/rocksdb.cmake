# RocksDB: Debian's headers, our library.
#
# Debian's librocksdb 7.8.3 (shared and static) is built without NDEBUG, so its
# assert()s are live and an I/O error on a write path (ENOSPC) aborts the
# process instead of returning a status (traps.md). tools/dev/build-rocksdb.sh
# (run by tools/dev/install-deps.sh) builds the same version from Debian's own
# source package as a static Release library, once per machine, outside the
# work tree. We link that archive but keep compiling against Debian's headers in
# /usr/include: they are the same version (the cache key is the installed
# librocksdb-dev version, and the build script's headers are byte-identical),
# so compile flags do not depend on where the library was built.
#
# Defines RocksDB::rocksdb (Debian's imported target, pointed at our archive).

find_package(RocksDB CONFIG REQUIRED)  # headers and the compression targets

execute_process(
  COMMAND ${PROJECT_SOURCE_DIR}/tools/dev/build-rocksdb.sh --prefix
  OUTPUT_VARIABLE TY_ROCKSDB_PREFIX
  OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT EXISTS ${TY_ROCKSDB_PREFIX}/.complete)
  message(FATAL_ERROR "RocksDB without assertions is not built on this machine "
    "(${TY_ROCKSDB_PREFIX}): run tools/dev/install-deps.sh (or make deps).")
endif()
set(TY_ROCKSDB_ARCHIVE ${TY_ROCKSDB_PREFIX}/lib/librocksdb.a)
message(STATUS "RocksDB: Debian's headers, ${TY_ROCKSDB_ARCHIVE}")

# Debian's target has a single "NONE" configuration, used for every build type.
# Our build has no gflags (Debian's tools need it, the library does not).
get_target_property(configs RocksDB::rocksdb IMPORTED_CONFIGURATIONS)
foreach(config ${configs})
  set_target_properties(RocksDB::rocksdb PROPERTIES
    IMPORTED_LOCATION_${config} ${TY_ROCKSDB_ARCHIVE})
endforeach()
set_target_properties(RocksDB::rocksdb PROPERTIES
  IMPORTED_LOCATION ${TY_ROCKSDB_ARCHIVE}
  INTERFACE_LINK_LIBRARIES
    "$<LINK_ONLY:Snappy::snappy>;$<LINK_ONLY:ZLIB::ZLIB>;$<LINK_ONLY:BZip2::BZip2>;$<LINK_ONLY:lz4::lz4>;$<LINK_ONLY:zstd::zstd>;$<LINK_ONLY:Threads::Threads>;$<LINK_ONLY:${CMAKE_DL_LIBS}>")
