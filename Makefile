# SPDX-License-Identifier: Apache-2.0
# wisp: one non-recursive GNU Makefile.  Output goes to build/ (and
# build/san/ for the ASan+UBSan variant).
#
#   make              build/wisp
#   make test         install missing packages, build, run every test
#   make unit-tests   build and run the unit tests (plain and sanitized)
#   make guest-tests  build and run the guest tests (plain and sanitized)
#   make san          build/san/wisp, with AddressSanitizer and UBSan
#   make clean

BUILD	:= build
SAN_DIR	:= $(BUILD)/san
CC	?= gcc

WARNINGS := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
	    -Wshadow -Wvla -Wpointer-arith -Wundef -Wformat=2 -Wno-format-nonliteral \
	    -Wcast-align -Wmissing-declarations -Wnull-dereference
CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE $(WARNINGS) -MMD -MP \
	   -fno-strict-aliasing -fstack-protector-strong
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
LDLIBS	:= -luring -ljson-c -lfdt -lxxhash -lpthread
TEST_LDLIBS := -lcmocka

# Quiet by default, like Kbuild: "make V=1" shows the commands.
ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

# Sources: everything in vmm/, devices/ and firmware/; *_test.c are unit
# tests, each linked against the library of all other objects.  A test's
# binary is named after its path below the top directory, so
# devices/virtio/queue_test.c becomes virtio_queue_test.
ALL_SRCS  := $(wildcard vmm/*.c devices/*.c devices/*/*.c firmware/*.c)
TEST_SRCS := $(filter %_test.c,$(ALL_SRCS))
MAIN_SRC  := vmm/main.c
LIB_SRCS  := $(filter-out $(TEST_SRCS) $(MAIN_SRC) %_testlib.c,$(ALL_SRCS))
TESTLIB_SRCS := $(filter %_testlib.c,$(ALL_SRCS))

define variant
# $(1): output directory, $(2): extra compiler flags
$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(call msg,CC,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $(2) -c $$< -o $$@

$(1)/libwisp.a: $$(LIB_SRCS:%.c=$(1)/obj/%.o)
	@rm -f $$@
	$$(call msg,AR,$$@)
	$$(Q)$$(AR) rcs $$@ $$^

$(1)/wisp: $(1)/obj/$(MAIN_SRC:.c=.o) $(1)/libwisp.a
	$$(call msg,LD,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $(2) $$^ -o $$@ $$(LDLIBS)

endef

test_name = $(subst /,_,$(patsubst $(firstword $(subst /, ,$(1)))/%,%,$(1:.c=)))

# $(1): output directory, $(2): extra flags, $(3): a *_test.c source
define unit_test
$(1)/tests/$(call test_name,$(3)): $(1)/obj/$(3:.c=.o) $(TESTLIB_SRCS:%.c=$(1)/obj/%.o) $(1)/libwisp.a
	@mkdir -p $$(@D)
	$$(call msg,LD,$$@)
	$$(Q)$$(CC) $$(CFLAGS) $(2) $$^ -o $$@ $$(TEST_LDLIBS) $$(LDLIBS)
endef

$(eval $(call variant,$(BUILD),))
$(eval $(call variant,$(SAN_DIR),$(SAN_FLAGS)))
$(foreach t,$(TEST_SRCS),$(eval $(call unit_test,$(BUILD),,$(t))))
$(foreach t,$(TEST_SRCS),$(eval $(call unit_test,$(SAN_DIR),$(SAN_FLAGS),$(t))))

# The DSDT: firmware/dsdt.asl compiled by iasl (acpica-tools), its AML
# embedded in firmware/acpi.c as a C array.
GEN := $(BUILD)/gen

$(GEN)/dsdt_aml.h: firmware/dsdt.asl
	@mkdir -p $(@D)
	$(call msg,IASL,$<)
	$(Q)command -v iasl >/dev/null || { echo "iasl not found: install acpica-tools (tools/install-deps)" >&2; exit 1; }
	$(Q)iasl -vs -we -p $(@D)/dsdt $< >$(@D)/dsdt.log 2>&1 || { cat $(@D)/dsdt.log >&2; exit 1; }
	$(Q){ echo 'static const unsigned char dsdt_aml[] = {'; \
	  od -An -v -tx1 $(@D)/dsdt.aml | sed 's/ \([0-9a-f][0-9a-f]\)/ 0x\1,/g'; \
	  echo '};'; } >$@.tmp && mv $@.tmp $@

$(BUILD)/obj/firmware/acpi.o $(SAN_DIR)/obj/firmware/acpi.o: $(GEN)/dsdt_aml.h
$(BUILD)/obj/firmware/acpi.o $(SAN_DIR)/obj/firmware/acpi.o: CFLAGS += -I$(GEN)

UNIT_TESTS     := $(foreach t,$(TEST_SRCS),$(BUILD)/tests/$(call test_name,$(t)))
SAN_UNIT_TESTS := $(foreach t,$(TEST_SRCS),$(SAN_DIR)/tests/$(call test_name,$(t)))

include guest-tests/guest-tests.mk

.PHONY: all san unit-tests guest-tests test run clean
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BUILD)/wisp

san: $(SAN_DIR)/wisp

# Everything the test run needs, built in one make invocation (-j safe).
test-build: $(BUILD)/wisp $(SAN_DIR)/wisp $(UNIT_TESTS) $(SAN_UNIT_TESTS) \
	    $(GUEST_TEST_ELFS)

unit-tests: $(UNIT_TESTS) $(SAN_UNIT_TESTS)
	tools/run-tests --unit-only

guest-tests: $(BUILD)/wisp $(SAN_DIR)/wisp $(GUEST_TEST_ELFS)
	tools/run-tests --guest-only

# The one test command (README, .ci/run): installs what is missing, then
# builds and runs everything and ends with "N passed, M failed".
test:
	tools/run-tests

# The main job: boot the default Linux guest (tools/mkguest builds it).
run:
	tools/install-deps
	$(MAKE) -s $(BUILD)/wisp
	tools/run-default

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
