# Tests of the stats module: statistics against scipy fixtures, compare, gate and
# report on recorded results, and the report page in a headless Chromium.
set(NOZERO_STATS_FIXTURES ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)

add_executable(stats_tests
  stats_statistics_test.cpp)
target_link_libraries(stats_tests PRIVATE nzh_stats GTest::gtest_main)
target_compile_definitions(stats_tests PRIVATE
  NOZERO_TEST_FIXTURES="${NOZERO_STATS_FIXTURES}"
  NOZERO_BENCH_BINARY="$<TARGET_FILE:nozero-bench>"
  NOZERO_TEST_OUTPUT="${CMAKE_CURRENT_BINARY_DIR}/stats-output")
add_dependencies(stats_tests nozero-bench)
gtest_discover_tests(stats_tests)
