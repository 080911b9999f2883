// SPDX-License-Identifier: Apache-2.0
/*
 * triple-fault: loads an empty IDT and executes ud2.  #UD cannot be
 * delivered, nor the #GP and #DF that follow: the CPU shuts down, and wisp
 * exits with status 82.
 */
#include "guest.h"

int main(void)
{
	printf("triple-fault: empty IDT, then ud2\n");
	triple_fault();
}
