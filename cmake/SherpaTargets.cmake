# Helpers that give every sherpa target the same warnings and sanitizers.
#
#   sherpa_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
#     -> static library sherpa_<name>, alias sherpa::<name>
#   sherpa_executable(<name> SOURCES ... [DEPS ...])
#   sherpa_test(<name> SOURCES ... [DEPS ...] [LABELS ...])
#     -> gtest binary <name>, registered with CTest through gtest_discover_tests

function(sherpa_target_options target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wimplicit-fallthrough -Wold-style-cast)
  if(SHERPA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(SHERPA_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${SHERPA_SANITIZE}
                           -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=${SHERPA_SANITIZE})
  endif()
  # Coverage feedback for libFuzzer in the code under test; only the fuzzers
  # themselves link libFuzzer (fuzz/CMakeLists.txt).
  if(SHERPA_BUILD_FUZZERS)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

function(sherpa_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(sherpa_${name} STATIC ${ARG_SOURCES})
  add_library(sherpa::${name} ALIAS sherpa_${name})
  target_include_directories(sherpa_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  set_target_properties(sherpa_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(sherpa_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  sherpa_target_options(sherpa_${name})
endfunction()

function(sherpa_executable name)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  if(ARG_OUTPUT_NAME)
    set_target_properties(${name} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
  endif()
  sherpa_target_options(${name})
endfunction()

function(sherpa_test name)
  if(NOT SHERPA_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  sherpa_target_options(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
