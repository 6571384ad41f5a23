# Tests of the run module. run_unit_tests needs no VM: suites, scheduling, the
# captures (the in-guest runner runs on this host) and the host side against a
# fake executor. run_smoke_e2e runs the smoke suite in a real guest.
add_executable(run_unit_tests
  suite_test.cpp
  schedule_test.cpp
  capture_test.cpp
  run_runner_test.cpp)
target_link_libraries(run_unit_tests PRIVATE nzh_run nzh_vm GTest::gtest_main)
target_compile_definitions(run_unit_tests PRIVATE NOZERO_BENCH_BINARY="$<TARGET_FILE:nozero-bench>")
add_dependencies(run_unit_tests nozero-bench)
gtest_discover_tests(run_unit_tests PROPERTIES TIMEOUT 300)
