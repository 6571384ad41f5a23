# Tests of the stats module: statistics against scipy fixtures, compare, gate and
# report on recorded results, and the report pages in a headless Chromium.
set(NOZERO_STATS_FIXTURES ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set(NOZERO_STATS_OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/stats-output)

add_executable(stats_tests
  stats_statistics_test.cpp
  compare_results_test.cpp
  gate_test.cpp
  report_test.cpp)
target_link_libraries(stats_tests PRIVATE nzh_stats GTest::gtest_main)
target_compile_definitions(stats_tests PRIVATE
  NOZERO_TEST_FIXTURES="${NOZERO_STATS_FIXTURES}"
  NOZERO_BENCH_BINARY="$<TARGET_FILE:nozero-bench>"
  NOZERO_TEST_OUTPUT="${NOZERO_STATS_OUTPUT}")
add_dependencies(stats_tests nozero-bench)
gtest_discover_tests(stats_tests)

# The report and the index in a real headless Chromium: no console errors, no
# network request, every plot decoded. The screenshots stay in the build tree.
set(chromium_dir ${NOZERO_STATS_OUTPUT}/chromium)
add_test(NAME report_chromium_render
  COMMAND $<TARGET_FILE:nozero-bench> report ${NOZERO_STATS_FIXTURES}/results/tcg-base.json
          --out ${chromium_dir}/tcg-base)
add_test(NAME report_chromium_render_second
  COMMAND $<TARGET_FILE:nozero-bench> report ${NOZERO_STATS_FIXTURES}/results/tcg-regression.json
          --out ${chromium_dir}/tcg-regression)
add_test(NAME report_chromium_render_index
  COMMAND $<TARGET_FILE:nozero-bench> report --index ${chromium_dir})
set_tests_properties(report_chromium_render report_chromium_render_second PROPERTIES FIXTURES_SETUP chromium_reports)
set_tests_properties(report_chromium_render_index PROPERTIES
  FIXTURES_REQUIRED chromium_reports FIXTURES_SETUP chromium_index)
add_test(NAME report_chromium_page
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/report_chromium_check.py
          ${chromium_dir}/tcg-base/report.html --screenshot ${chromium_dir}/report.png
          --expect-plot ratios
          --expect-plot samples-ebizzy-m --expect-plot clear-page-ebizzy-m --expect-plot symbols-ebizzy-m
          --expect-plot samples-nzmmap-test --expect-plot clear-page-nzmmap-test --expect-plot symbols-nzmmap-test
          --expect-plot samples-cc-sim --expect-plot clear-page-cc-sim --expect-plot symbols-cc-sim)
add_test(NAME report_chromium_index
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/report_chromium_check.py
          ${chromium_dir}/index.html --screenshot ${chromium_dir}/index.png
          --expect-plot trend-ebizzy-m-records_per_s --expect-plot trend-nzmmap-test-pages_per_s
          --expect-plot trend-cc-sim-elapsed_s)
set_tests_properties(report_chromium_page PROPERTIES FIXTURES_REQUIRED chromium_reports TIMEOUT 180)
set_tests_properties(report_chromium_index PROPERTIES FIXTURES_REQUIRED chromium_index TIMEOUT 180)

# The gate's false-positive rate on A/A pairs built from real host measurements:
# consecutive blocks of the recorded pool and random splits of it. The relative
# gate (--relative-to baseline), which docs/ci.md recommends, must flag at most 5%.
add_test(NAME gate_false_positive_rate
  COMMAND /usr/bin/python3 ${NOZERO_STATS_FIXTURES}/host/aa_false_positive.py
          --nozero-bench $<TARGET_FILE:nozero-bench> --pool ${NOZERO_STATS_FIXTURES}/host/host-pool.json
          --resamples 100 --threshold 5 --mode absolute --mode relative --require relative
          --json ${NOZERO_STATS_OUTPUT}/gate-false-positive.json)
set_tests_properties(gate_false_positive_rate PROPERTIES TIMEOUT 600)
