# Tests of the run module. run_unit_tests needs no VM: suites, scheduling, the
# captures (the in-guest runner runs on this host) and the host side against a
# fake executor. run_smoke_e2e runs the smoke suite in a real guest.
add_executable(run_unit_tests
  suite_test.cpp
  schedule_test.cpp
  capture_test.cpp
  run_runner_test.cpp)
target_link_libraries(run_unit_tests PRIVATE nzh_run nzh_vm nzh_stats GTest::gtest_main)
target_compile_definitions(run_unit_tests PRIVATE NOZERO_BENCH_BINARY="$<TARGET_FILE:nozero-bench>")
add_dependencies(run_unit_tests nozero-bench)
gtest_discover_tests(run_unit_tests PROPERTIES TIMEOUT 300)

# The smoke suite in a real guest: needs the patched kernel of the
# guest_kernels fixture (vm_tests.cmake); about 40 s under TCG.
add_executable(run_smoke_e2e_tests run_smoke_e2e_test.cpp)
target_link_libraries(run_smoke_e2e_tests PRIVATE nzh_core GTest::gtest_main)
target_compile_definitions(run_smoke_e2e_tests PRIVATE
  NOZERO_BENCH_BINARY="$<TARGET_FILE:nozero-bench>"
  NOZERO_TEST_KERNEL_CACHE="${NOZERO_TEST_KERNEL_CACHE}"
  NOZERO_TEST_OUTPUT="${CMAKE_CURRENT_BINARY_DIR}/run-smoke-output")
add_dependencies(run_smoke_e2e_tests nozero-bench ebizzy-nz nzmmap-test smiffy nozero-exec)
add_test(NAME run_smoke_e2e COMMAND run_smoke_e2e_tests)
set_tests_properties(run_smoke_e2e PROPERTIES
  FIXTURES_REQUIRED guest_kernels RESOURCE_LOCK guest-vm TIMEOUT 1500 LABELS "vm;e2e")
