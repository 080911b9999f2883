# SPDX-License-Identifier: Apache-2.0
# guest-tests: bare-metal x86-64 guests that wisp boots to test itself.
# Included by the top-level Makefile, which defines BUILD and CC.
#
#   make guest-test-elfs      builds $(GUEST_TEST_ELFS)
#   guest-tests/run --wisp $(BUILD)/wisp --guests $(BUILD)/guest-tests ...
#
# Every guest is one x86/NAME.c linked with the library in lib/ into
# $(BUILD)/guest-tests/NAME.elf.  Each ELF is checked for instructions
# that KVM's emulator refuses at CPL0 (see guest-tests/check-insns) before
# it is moved into place.

GT_SRC := guest-tests
GT_OUT := $(BUILD)/guest-tests
GT_CC ?= $(CC)
GT_OBJDUMP ?= objdump

GT_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -nostdlib -fno-builtin-printf \
	-fno-pic -fno-pie -mcmodel=small -m64 \
	-mgeneral-regs-only -mno-red-zone -mno-sse -mno-mmx -mno-80387 \
	-fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-tree-loop-distribute-patterns \
	-I$(GT_SRC)/lib -MMD -MP
GT_ASFLAGS := -m64 -I$(GT_SRC)/lib -MMD -MP
GT_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-T,$(GT_SRC)/lib/guest.ld

GT_LIB_C_OBJS := $(patsubst $(GT_SRC)/%.c,$(GT_OUT)/%.o,\
	$(sort $(wildcard $(GT_SRC)/lib/*.c)))
GT_LIB_S_OBJS := $(patsubst $(GT_SRC)/%.S,$(GT_OUT)/%.o,\
	$(sort $(wildcard $(GT_SRC)/lib/*.S)))
GT_LIB_OBJS := $(GT_LIB_C_OBJS) $(GT_LIB_S_OBJS)
GT_TEST_C := $(sort $(wildcard $(GT_SRC)/x86/*.c))
GT_TEST_OBJS := $(patsubst $(GT_SRC)/%.c,$(GT_OUT)/%.o,$(GT_TEST_C))
GUEST_TEST_ELFS := $(patsubst $(GT_SRC)/x86/%.c,$(GT_OUT)/%.elf,$(GT_TEST_C))

.PHONY: guest-test-elfs
guest-test-elfs: $(GUEST_TEST_ELFS)

$(GT_LIB_OBJS) $(GT_TEST_OBJS): $(GT_SRC)/guest-tests.mk

$(GT_LIB_C_OBJS) $(GT_TEST_OBJS): $(GT_OUT)/%.o: $(GT_SRC)/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(GT_CC) $(GT_CFLAGS) -c -o $@ $<

$(GT_LIB_S_OBJS): $(GT_OUT)/%.o: $(GT_SRC)/%.S
	@mkdir -p $(@D)
	$(call msg,AS,$@)
	$(Q)$(GT_CC) $(GT_ASFLAGS) -c -o $@ $<

$(GUEST_TEST_ELFS): $(GT_OUT)/%.elf: $(GT_OUT)/x86/%.o $(GT_LIB_OBJS) \
		$(GT_SRC)/lib/guest.ld $(GT_SRC)/check-insns
	$(call msg,LD,$@)
	$(Q)$(GT_CC) $(GT_LDFLAGS) -o $@.tmp $< $(GT_LIB_OBJS)
	$(Q)OBJDUMP=$(GT_OBJDUMP) sh $(GT_SRC)/check-insns $@.tmp
	$(Q)mv -f $@.tmp $@

-include $(GT_LIB_OBJS:.o=.d) $(GT_TEST_OBJS:.o=.d)
