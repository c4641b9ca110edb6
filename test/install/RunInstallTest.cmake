#===- test/install/RunInstallTest.cmake - Use stn as an installed package --===#
#
# Run by ctest (see test/CMakeLists.txt):
#   cmake -DSTN_BINARY_DIR=<build> -DSTN_SOURCE_DIR=<source> -DWORK_DIR=<scratch>
#         [-DSTN_CXX_COMPILER=<c++>] [-DSTN_CXX_FLAGS=<flags>]
#         [-DSTN_EXE_LINKER_FLAGS=<flags>] -P RunInstallTest.cmake
# The optional ones build the host program like the tree under test (the
# sanitizer presets in CMakePresets.json need them).
#
# 1. installs the build tree into WORK_DIR/prefix,
# 2. configures test/install/project (find_package(stn CONFIG REQUIRED),
#    target_link_libraries(app PRIVATE stn::stn)) against that prefix only,
# 3. builds and runs it (it compiles a kernel from a string, calls it and
#    checks the result),
# 4. runs the installed `stn --version`.
# Any failing step stops the test with its full output.
#
#===------------------------------------------------------------------------===#
cmake_minimum_required(VERSION 3.20)

foreach(var STN_BINARY_DIR STN_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "RunInstallTest.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(project_build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Runs one step; on failure prints its command line and output and stops.
function(run_step name)
  string(REPLACE ";" " " cmdline "${ARGN}")
  message(STATUS "[install test] ${name}: ${cmdline}")
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR "[install test] step '${name}' failed (${rc}):\n"
      "  ${cmdline}\n${out}")
  endif()
  message(STATUS "[install test] ${name}: ok\n${out}")
endfunction()

run_step(install
  "${CMAKE_COMMAND}" --install "${STN_BINARY_DIR}" --prefix "${prefix}")

set(generator_args -G Ninja)
find_program(NINJA_PROGRAM NAMES ninja ninja-build)
if(NINJA_PROGRAM)
  list(APPEND generator_args "-DCMAKE_MAKE_PROGRAM=${NINJA_PROGRAM}")
endif()
if(STN_CXX_COMPILER)
  list(APPEND generator_args "-DCMAKE_CXX_COMPILER=${STN_CXX_COMPILER}")
endif()
if(STN_CXX_FLAGS)
  list(APPEND generator_args "-DCMAKE_CXX_FLAGS=${STN_CXX_FLAGS}")
endif()
if(STN_EXE_LINKER_FLAGS)
  list(APPEND generator_args "-DCMAKE_EXE_LINKER_FLAGS=${STN_EXE_LINKER_FLAGS}")
endif()
run_step(configure
  "${CMAKE_COMMAND}" ${generator_args}
  -S "${STN_SOURCE_DIR}/test/install/project"
  -B "${project_build}"
  "-DCMAKE_PREFIX_PATH=${prefix}"
  -DCMAKE_BUILD_TYPE=Release)

run_step(build "${CMAKE_COMMAND}" --build "${project_build}")

run_step(run "${project_build}/app")

run_step(version "${prefix}/bin/stn" --version)
