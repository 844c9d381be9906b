/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Shared main of the CUnit executables: each test_<module>.c defines
 * kapa_unit_register(), which adds its suites to the registry.
 */
#ifndef KAPA_UNIT_H
#define KAPA_UNIT_H

#include <CUnit/CUnit.h>

/**
 * Add this executable's suites (CU_add_suite / CU_add_test).
 * @return 0, or non-zero when registration (or EAL start) failed.
 */
int kapa_unit_register(void);

#endif /* KAPA_UNIT_H */
