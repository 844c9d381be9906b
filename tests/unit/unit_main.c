/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>

#include <CUnit/Basic.h>

#include "unit.h"

int
main(void)
{
	unsigned int failures, ran;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		return 2;
	}
	if (kapa_unit_register() != 0) {
		fprintf(stderr, "test registration failed: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	/* Read the counts before CU_cleanup_registry(), which resets them. */
	failures = CU_get_number_of_failure_records();
	ran = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (ran == 0) {
		fprintf(stderr, "no test ran\n");
		return 2;
	}
	return failures == 0 ? 0 : 1;
}
