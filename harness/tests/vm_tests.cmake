# Tests of the kernel, vm and doctor modules and the shared core.
#
# kernel_build_patched and kernel_build_unpatched build real 6.12 kernels into
# a cache inside the build tree (a few minutes each with make -j2); the vm_boot
# tests boot them under QEMU. A second run of ctest reuses the cache.
set(NOZERO_TEST_KERNEL_CACHE ${CMAKE_BINARY_DIR}/kernel-cache)
set(NOZERO_VM_TEST_OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/vm-output)

add_executable(kernel_unit_tests
  kernel_kconfig_test.cpp
  kernel_series_test.cpp
  kernel_cache_test.cpp)
target_link_libraries(kernel_unit_tests PRIVATE nzh_kernel GTest::gtest_main)
gtest_discover_tests(kernel_unit_tests)

add_executable(vm_unit_tests
  vm_core_test.cpp
  vm_qemu_command_test.cpp
  vm_protocol_test.cpp
  vm_initramfs_test.cpp
  vm_accelerator_test.cpp
  vm_executor_test.cpp)
target_link_libraries(vm_unit_tests PRIVATE nzh_vm GTest::gtest_main)
gtest_discover_tests(vm_unit_tests PROPERTIES TIMEOUT 120)

add_executable(doctor_tests doctor_test.cpp)
target_link_libraries(doctor_tests PRIVATE nzh_doctor GTest::gtest_main)
target_compile_definitions(doctor_tests PRIVATE NOZERO_BENCH_BINARY="$<TARGET_FILE:nozero-bench>")
add_dependencies(doctor_tests nozero-bench)
gtest_discover_tests(doctor_tests PROPERTIES TIMEOUT 300)

# Real kernel builds: the fixtures of every test that boots a guest.
add_test(NAME kernel_build_patched
  COMMAND nozero-bench kernel build --cache-dir ${NOZERO_TEST_KERNEL_CACHE} --jobs 2)
add_test(NAME kernel_build_unpatched
  COMMAND nozero-bench kernel build --no-patches --cache-dir ${NOZERO_TEST_KERNEL_CACHE} --jobs 2)
# One fixture with two setup tests: gtest_discover_tests cannot pass a list as a
# property value, so the boot tests name a single fixture.
set_tests_properties(kernel_build_patched kernel_build_unpatched PROPERTIES
  FIXTURES_SETUP guest_kernels RESOURCE_LOCK kernel_build TIMEOUT 3000)

add_executable(vm_boot_tests vm_boot_test.cpp)
target_link_libraries(vm_boot_tests PRIVATE nzh_vm GTest::gtest_main)
target_compile_definitions(vm_boot_tests PRIVATE
  NOZERO_BENCH_BINARY="$<TARGET_FILE:nozero-bench>"
  NOZERO_TEST_KERNEL_CACHE="${NOZERO_TEST_KERNEL_CACHE}"
  NOZERO_TEST_OUTPUT="${NOZERO_VM_TEST_OUTPUT}")
add_dependencies(vm_boot_tests nozero-bench)
gtest_discover_tests(vm_boot_tests PROPERTIES
  FIXTURES_REQUIRED guest_kernels RESOURCE_LOCK guest-vm TIMEOUT 300)
