# Build helpers: every target in the tree is declared through one of these, so
# warnings, include paths and test registration are set in exactly one place.
#
#   ty_library(NAME n SRCS a.cc ... DEPS t ...)        static library ty_n
#   ty_test(NAME n SRCS a_test.cc ... DEPS t ...)      gtest binary n, registered with CTest
#   ty_binary(NAME n SRCS main.cc ... DEPS t ...)      executable n
#   ty_proto_library(NAME n PROTOS p.proto ... DEPS t ... [GRPC])
#                                                      generated library ty_n; one per proto package
#                                                      (with GRPC also ty_n_messages, without stubs)

set(TY_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

function(_ty_common target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${target} PRIVATE ${TY_WARNINGS})
endfunction()

function(ty_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(ty_${A_NAME} STATIC ${A_SRCS})
  _ty_common(ty_${A_NAME})
  target_link_libraries(ty_${A_NAME} PUBLIC ${A_DEPS})
endfunction()

function(ty_binary)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  _ty_common(${A_NAME})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
endfunction()

# One CTest entry per test binary: on two cores, process start-up per test case
# would cost more than the finer-grained report is worth. ctest --output-on-failure
# shows the failing gtest case by name.
function(ty_test)
  cmake_parse_arguments(A "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  _ty_common(${A_NAME})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gmock GTest::gtest_main)
  add_test(NAME ${A_NAME} COMMAND ${A_NAME} --gtest_brief=1)
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  set_tests_properties(${A_NAME} PROPERTIES TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "TRAINYARD_SOURCE_DIR=${PROJECT_SOURCE_DIR};TRAINYARD_BINARY_DIR=${PROJECT_BINARY_DIR}")
  if(A_LABELS)
    set_tests_properties(${A_NAME} PROPERTIES LABELS "${A_LABELS}")
  endif()
endfunction()

# Generates C++ (and gRPC stubs with GRPC) for the given .proto files. Paths are
# relative to PROTO_ROOT (default: ${PROJECT_SOURCE_DIR}/protos). Imports resolve
# against protos/, the google.rpc copies from npm, Debian's grpc-proto, and
# protobuf's well-known types.
set(TY_PROTO_PATHS
  ${PROJECT_SOURCE_DIR}/protos
  ${PROJECT_SOURCE_DIR}/node_modules/google-proto-files
  /usr/share/grpc-proto
  ${Protobuf_INCLUDE_DIRS})

function(ty_proto_library)
  cmake_parse_arguments(A "GRPC" "NAME;PROTO_ROOT" "PROTOS;DEPS" ${ARGN})
  if(NOT A_PROTO_ROOT)
    set(A_PROTO_ROOT ${PROJECT_SOURCE_DIR}/protos)
  endif()
  set(out_dir ${PROJECT_BINARY_DIR}/gen)
  set(import_flags -I${A_PROTO_ROOT})
  foreach(p ${TY_PROTO_PATHS})
    if(p STREQUAL A_PROTO_ROOT)
      continue()
    endif()
    list(APPEND import_flags -I${p})
  endforeach()
  set(message_srcs "")
  set(grpc_srcs "")
  foreach(proto ${A_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base ${proto})
    set(outs ${out_dir}/${base}.pb.cc ${out_dir}/${base}.pb.h)
    list(APPEND message_srcs ${out_dir}/${base}.pb.cc ${out_dir}/${base}.pb.h)
    set(grpc_flags "")
    if(A_GRPC)
      list(APPEND outs ${out_dir}/${base}.grpc.pb.cc ${out_dir}/${base}.grpc.pb.h)
      list(APPEND grpc_srcs ${out_dir}/${base}.grpc.pb.cc ${out_dir}/${base}.grpc.pb.h)
      set(grpc_flags --grpc_out=${out_dir}
        --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND protobuf::protoc --cpp_out=${out_dir} ${grpc_flags} ${import_flags}
              ${A_PROTO_ROOT}/${proto}
      DEPENDS ${A_PROTO_ROOT}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
  endforeach()
  if(NOT A_GRPC)
    add_library(ty_${A_NAME} STATIC ${message_srcs})
    target_include_directories(ty_${A_NAME} PUBLIC ${out_dir})
    target_link_libraries(ty_${A_NAME} PUBLIC ${A_DEPS} protobuf::libprotobuf)
    return()
  endif()
  # With GRPC: ty_<name>_messages holds the messages alone (for domain/
  # libraries, which must not link gRPC: ty_check_layers) and ty_<name> adds
  # the service stubs.
  add_library(ty_${A_NAME}_messages STATIC ${message_srcs})
  target_include_directories(ty_${A_NAME}_messages PUBLIC ${out_dir})
  target_link_libraries(ty_${A_NAME}_messages PUBLIC ${A_DEPS} protobuf::libprotobuf)
  add_library(ty_${A_NAME} STATIC ${grpc_srcs})
  target_link_libraries(ty_${A_NAME} PUBLIC ty_${A_NAME}_messages gRPC::grpc++)
endfunction()

# Layers (conventions.md): a service's domain/ holds the rules, as plain C++
# on protos, and must not reach the transport or the disk. Called once at the
# end of the top-level CMakeLists: every ty_*_domain library whose link closure
# includes gRPC, RocksDB or our storage/server runtime fails the configure.
set(TY_DOMAIN_FORBIDDEN gRPC::grpc++ gRPC::grpc RocksDB::rocksdb
  RocksDB::rocksdb-shared ty_storage ty_server ty_http)

function(_ty_link_closure target out)
  set(seen ${${out}})
  set(stack ${target})
  while(stack)
    list(POP_BACK stack t)
    if(NOT TARGET ${t})
      continue()
    endif()
    get_target_property(aliased ${t} ALIASED_TARGET)
    if(aliased)
      set(t ${aliased})
    endif()
    if(t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(deps ${t} INTERFACE_LINK_LIBRARIES)
    if(deps)
      foreach(d ${deps})
        string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" d "${d}")
        list(APPEND stack ${d})
      endforeach()
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Services meet only through their public protos (protos/): a target declared
# under services/<x>/ may link common/, protos/ and services/<x>/ targets, never
# one declared under another service's folder (its libraries, its testing
# harnesses, its internal protos), and no file under services/<x>/ includes a
# file under another service's folder. A test that needs a peer runs its
# binary (common/testing/service_process.h; add_dependencies, not a link).
function(_ty_service_of dir out)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
  if(rel MATCHES "^services/([^/]+)")
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# Our (non-imported) targets that `target` links, itself included, in `out`;
# imported targets (gRPC, Abseil, ...) link none of ours, so the walk skips
# them. Memoized per target: every target of the tree asks.
function(_ty_own_closure target out)
  if(NOT TARGET ${target})
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  get_target_property(aliased ${target} ALIASED_TARGET)
  if(aliased)
    set(target ${aliased})
  endif()
  get_target_property(imported ${target} IMPORTED)
  if(imported)
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  get_property(known GLOBAL PROPERTY TY_OWN_CLOSURE_${target} SET)
  if(NOT known)
    # Marked first, so that a link cycle ends here.
    set_property(GLOBAL PROPERTY TY_OWN_CLOSURE_${target} ${target})
    set(closure ${target})
    get_target_property(deps ${target} INTERFACE_LINK_LIBRARIES)
    foreach(d ${deps})
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" d "${d}")
      _ty_own_closure(${d} sub)
      list(APPEND closure ${sub})
    endforeach()
    list(REMOVE_DUPLICATES closure)
    set_property(GLOBAL PROPERTY TY_OWN_CLOSURE_${target} ${closure})
  endif()
  get_property(closure GLOBAL PROPERTY TY_OWN_CLOSURE_${target})
  set(${out} ${closure} PARENT_SCOPE)
endfunction()

# One line per direct dependency of `target` whose link closure holds a
# target of a service other than `own`.
function(_ty_check_service_links target own out)
  set(errors "")
  foreach(prop LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(deps ${target} ${prop})
    if(NOT deps)
      continue()
    endif()
    foreach(d ${deps})
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" d "${d}")
      _ty_own_closure(${d} closure)
      foreach(c ${closure})
        get_target_property(dir ${c} SOURCE_DIR)
        _ty_service_of(${dir} other)
        if(other AND NOT other STREQUAL own)
          set(line "${target} (services/${own}) links ${c} of services/${other}")
          if(NOT c STREQUAL d)
            set(line "${target} (services/${own}) links ${d}, which links ${c} of services/${other}")
          endif()
          list(APPEND errors "  ${line}\n")
          break()
        endif()
      endforeach()
    endforeach()
  endforeach()
  list(REMOVE_DUPLICATES errors)
  set(${out} ${${out}} ${errors} PARENT_SCOPE)
endfunction()

function(_ty_check_service_includes service out)
  file(GLOB_RECURSE files ${PROJECT_SOURCE_DIR}/services/${service}/*.h
    ${PROJECT_SOURCE_DIR}/services/${service}/*.cc)
  set(errors "")
  foreach(f ${files})
    file(STRINGS ${f} includes REGEX "^#include \"services/")
    foreach(inc ${includes})
      if(NOT inc MATCHES "^#include \"services/${service}/")
        file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${f})
        list(APPEND errors "  ${rel}: ${inc}\n")
      endif()
    endforeach()
  endforeach()
  set(${out} ${${out}} ${errors} PARENT_SCOPE)
endfunction()

function(ty_check_layers)
  set(dirs ${PROJECT_SOURCE_DIR})
  set(all_dirs "")
  while(dirs)
    list(POP_FRONT dirs d)
    list(APPEND all_dirs ${d})
    get_property(sub DIRECTORY ${d} PROPERTY SUBDIRECTORIES)
    list(APPEND dirs ${sub})
  endwhile()
  set(service_errors "")
  foreach(d ${all_dirs})
    get_property(targets DIRECTORY ${d} PROPERTY BUILDSYSTEM_TARGETS)
    _ty_service_of(${d} own)
    foreach(t ${targets})
      if(own)
        _ty_check_service_links(${t} ${own} service_errors)
      endif()
      if(NOT t MATCHES "^ty_.*_domain$")
        continue()
      endif()
      set(closure "")
      _ty_link_closure(${t} closure)
      foreach(bad ${TY_DOMAIN_FORBIDDEN})
        if(TARGET ${bad})
          get_target_property(bad_aliased ${bad} ALIASED_TARGET)
          if(bad_aliased)
            set(bad ${bad_aliased})
          endif()
        endif()
        if(bad IN_LIST closure)
          message(FATAL_ERROR "${t} (a domain library) links ${bad}: domain/ "
            "holds pure rules; move the code that needs it to storage/ or grpc/")
        endif()
      endforeach()
    endforeach()
  endforeach()
  foreach(d ${all_dirs})
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${d})
    if(rel MATCHES "^services/([^/]+)$")
      _ty_check_service_includes(${CMAKE_MATCH_1} service_errors)
    endif()
  endforeach()
  if(service_errors)
    string(REPLACE ";" "" service_errors "${service_errors}")
    message(FATAL_ERROR "services meet only through their protos (protos/); "
      "link or include nothing of another service's folder, run its binary "
      "instead (common/testing/service_process.h):\n${service_errors}")
  endif()
endfunction()

# The layer order of one service's folder libraries (its README's "Layers").
# LAYERS names the folders from the bottom up, folders of one rank joined by
# "|"; folder f is the library ${PREFIX}f, a layer without a folder (module)
# only a library. Fails the configure when a library links another of its own
# rank or above, or when a source or header of a folder (tests and fixtures
# apart) includes a header of another layer folder whose library it does not
# link: the code's dependencies are the declared ones, and these point down.
function(ty_check_layer_order)
  cmake_parse_arguments(A "" "PREFIX;DIR" "LAYERS" ${ARGN})
  set(rank 0)
  set(folders "")
  foreach(group ${A_LAYERS})
    string(REPLACE "|" ";" members "${group}")
    foreach(f ${members})
      set(rank_${f} ${rank})
      list(APPEND folders ${f})
    endforeach()
    math(EXPR rank "${rank} + 1")
  endforeach()
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${A_DIR})
  foreach(f ${folders})
    set(t ${A_PREFIX}${f})
    if(NOT TARGET ${t})
      message(FATAL_ERROR "layer ${f}: there is no library ${t}")
    endif()
    set(closure "")
    _ty_link_closure(${t} closure)
    foreach(g ${folders})
      if(NOT g STREQUAL f AND rank_${g} GREATER_EQUAL rank_${f}
         AND ${A_PREFIX}${g} IN_LIST closure)
        message(FATAL_ERROR "${t} links ${A_PREFIX}${g}: ${f}/ may use only "
          "the layers below it (${rel}/README.md)")
      endif()
    endforeach()
    file(GLOB files ${A_DIR}/${f}/*.h ${A_DIR}/${f}/*.cc)
    foreach(file ${files})
      if(file MATCHES "(_test|_test_util|_fixture)\\.(h|cc)$")
        continue()
      endif()
      file(STRINGS ${file} includes REGEX "^#include \"${rel}/[a-z_]+/")
      foreach(line ${includes})
        string(REGEX REPLACE "^#include \"${rel}/([a-z_]+)/.*" "\\1" g
          "${line}")
        if(NOT g STREQUAL f AND DEFINED rank_${g}
           AND NOT ${A_PREFIX}${g} IN_LIST closure)
          message(FATAL_ERROR "${t} does not link ${A_PREFIX}${g}, but "
            "${file} includes ${rel}/${g}/ (${rel}/README.md: layers)")
        endif()
      endforeach()
    endforeach()
  endforeach()
endfunction()
