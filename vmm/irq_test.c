// SPDX-License-Identifier: Apache-2.0
/* The GSI routing table and MSI route bookkeeping, without KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "irq.h"

static struct kvm_irq_routing_entry table[IRQ_TABLE_MAX];

static void test_default_routes(void **state)
{
	struct irq_routes r;
	unsigned int i, pic = 0, ioapic = 0;
	int n;

	(void)state;
	assert_int_equal(irq_routes_init(&r, -1), 0);
	n = irq_build_table(&r, table, IRQ_TABLE_MAX);
	/* 0-15 to the PIC and the IOAPIC, 16-23 to the IOAPIC: as KVM has. */
	assert_int_equal(n, 16 + 24);
	for (i = 0; i < (unsigned int)n; i++) {
		const struct kvm_irq_routing_entry *e = &table[i];

		assert_int_equal(e->type, KVM_IRQ_ROUTING_IRQCHIP);
		if (e->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
			assert_int_equal(e->u.irqchip.pin, e->gsi);
			ioapic++;
		} else {
			assert_true(e->gsi < 16);
			assert_int_equal(e->u.irqchip.irqchip, e->gsi < 8 ?
					 KVM_IRQCHIP_PIC_MASTER :
					 KVM_IRQCHIP_PIC_SLAVE);
			assert_int_equal(e->u.irqchip.pin, e->gsi % 8);
			pic++;
		}
	}
	assert_int_equal(pic, 16);
	assert_int_equal(ioapic, 24);
	/* Too small a table is refused, not overrun. */
	assert_int_equal(irq_build_table(&r, table, 39), -ENOSPC);
	irq_routes_destroy(&r);
}

static const struct kvm_irq_routing_entry *find_gsi(int n, unsigned int gsi)
{
	int i;

	for (i = 0; i < n; i++)
		if (table[i].gsi == gsi && table[i].type == KVM_IRQ_ROUTING_MSI)
			return &table[i];
	return NULL;
}

static void test_msi_routes(void **state)
{
	const struct kvm_irq_routing_entry *e;
	struct irq_routes r;
	int a, b, n;

	(void)state;
	assert_int_equal(irq_routes_init(&r, -1), 0);
	a = irq_msi_alloc(&r);
	b = irq_msi_alloc(&r);
	assert_int_equal(a, IRQ_MSI_GSI_BASE);
	assert_int_equal(b, IRQ_MSI_GSI_BASE + 1);
	assert_int_equal(irq_msi_set(&r, b, 0xfee01000ULL | (7ULL << 32), 0x4041), 0);
	/* The installed table (built by the last change) carries it. */
	assert_int_equal(r.table->nr, 16 + 24 + 2);
	n = irq_build_table(&r, table, IRQ_TABLE_MAX);
	e = find_gsi(n, b);
	if (!e) {
		fail_msg("no MSI route for GSI %d", b);
		return;
	}
	assert_int_equal(e->u.msi.address_lo, 0xfee01000);
	assert_int_equal(e->u.msi.address_hi, 7);
	assert_int_equal(e->u.msi.data, 0x4041);
	assert_non_null(find_gsi(n, a));

	/* Freed routes leave the table and their GSI is handed out again. */
	irq_msi_free(&r, a);
	n = irq_build_table(&r, table, IRQ_TABLE_MAX);
	assert_null(find_gsi(n, a));
	assert_int_equal(irq_msi_alloc(&r), a);

	/* GSIs that are not allocated MSI routes are refused or ignored. */
	assert_int_equal(irq_msi_set(&r, 5, 0xfee00000, 0), -ENOENT);
	assert_int_equal(irq_msi_set(&r, IRQ_MSI_GSI_BASE + 9, 0xfee00000, 0),
			 -ENOENT);
	assert_int_equal(irq_msi_set(&r, -1, 0xfee00000, 0), -ENOENT);
	irq_msi_free(&r, 3);
	irq_msi_free(&r, IRQ_MSI_GSI_BASE + IRQ_MAX_MSI);
	n = irq_build_table(&r, table, IRQ_TABLE_MAX);
	assert_int_equal(n, 16 + 24 + 2);
	irq_routes_destroy(&r);
}

static void test_msi_routes_run_out(void **state)
{
	struct irq_routes r;
	unsigned int i;

	(void)state;
	assert_int_equal(irq_routes_init(&r, -1), 0);
	for (i = 0; i < IRQ_MAX_MSI; i++)
		assert_int_equal(irq_msi_alloc(&r), (int)(IRQ_MSI_GSI_BASE + i));
	assert_int_equal(irq_msi_alloc(&r), -ENOSPC);
	assert_int_equal(r.table->nr, IRQ_TABLE_MAX);
	irq_routes_destroy(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_routes),
		cmocka_unit_test(test_msi_routes),
		cmocka_unit_test(test_msi_routes_run_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
