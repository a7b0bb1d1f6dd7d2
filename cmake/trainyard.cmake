# Build helpers: every target in the tree is declared through one of these, so
# warnings, include paths and test registration are set in exactly one place.
#
#   ty_library(NAME n SRCS a.cc ... DEPS t ...)        static library ty_n
#   ty_test(NAME n SRCS a_test.cc ... DEPS t ...)      gtest binary n, registered with CTest
#   ty_binary(NAME n SRCS main.cc ... DEPS t ...)      executable n
#   ty_proto_library(NAME n PROTOS p.proto ... DEPS t ... [GRPC])
#                                                      generated library ty_n; one per proto package

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
  set(srcs "")
  foreach(proto ${A_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base ${proto})
    set(outs ${out_dir}/${base}.pb.cc ${out_dir}/${base}.pb.h)
    set(grpc_flags "")
    if(A_GRPC)
      list(APPEND outs ${out_dir}/${base}.grpc.pb.cc ${out_dir}/${base}.grpc.pb.h)
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
    list(APPEND srcs ${outs})
  endforeach()
  add_library(ty_${A_NAME} STATIC ${srcs})
  target_include_directories(ty_${A_NAME} PUBLIC ${out_dir})
  target_link_libraries(ty_${A_NAME} PUBLIC ${A_DEPS} protobuf::libprotobuf)
  if(A_GRPC)
    target_link_libraries(ty_${A_NAME} PUBLIC gRPC::grpc++)
  endif()
endfunction()
