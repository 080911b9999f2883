/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wisp's DSDT: the platform's fixed devices, in ASL.  The Makefile compiles
 * it with iasl into $(BUILD)/gen/dsdt_aml.h, and acpi_build() copies the AML
 * as is, with one exception: the 64-bit PCI window's placeholder below,
 * which it overwrites with the VM's window.  Other per-VM values go into
 * the tables built at run time (firmware/acpi.c).  The addresses, ports and
 * GSIs below are the ACPI_* constants of firmware/acpi.h; acpi_test checks
 * that the two agree.  docs/acpi.md describes every device.
 */
DefinitionBlock ("", "DSDT", 2, "WISP  ", "WISPVM  ", 1)
{
    /*
     * S5 (soft off).  Hardware-reduced ACPI: OSPM writes
     * SLP_TYP << 2 | SLP_EN (bit 5) to the FADT's sleep control register
     * (port 0x600), which powers the VM off.  Only the first value is used.
     */
    Name (\_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })

    Scope (\_SB)
    {
        /*
         * The PCI host bridge: bus 0, configuration through ports
         * 0xCF8/0xCFC and ECAM (the MCFG table; reserved by PRES below).
         * BARs go in the 32-bit window 0xC0000000-0xDFFFFFFF
         * (ACPI_PCI_MMIO32_*) and in a 64-bit window above RAM; the I/O
         * windows are every port but the configuration registers.  Devices
         * use MSI-X only: no _PRT.  A conventional PCI bridge (PNP0A03)
         * needs no _OSC.
         *
         * The QWordMemory's minimum 0x5749535000000000 ("PSIW") is a
         * placeholder: acpi_build() finds it and writes the VM's 64-bit
         * window (or a zero-length, not fixed one, which OSPM ignores)
         * over its minimum, maximum and length.
         */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_SEG, Zero)
            Name (_BBN, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x0000, 0x0000, 0x0001)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                    NonCacheable, ReadWrite,
                    0x00000000, 0xC0000000, 0xDFFFFFFF, 0x00000000, 0x20000000)
                QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
                    Prefetchable, ReadWrite,
                    0x0000000000000000, 0x5749535000000000,
                    0x57495350FFFFFFFF, 0x0000000000000000,
                    0x0000000100000000)
            })
        }

        /*
         * Motherboard resources: the ECAM region of bus 0 (0xE0000000,
         * 1 MiB: ACPI_PCI_ECAM_*), so that OSPM trusts the MCFG.
         */
        Device (PRES)
        {
            Name (_HID, EisaId ("PNP0C02"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite, 0xE0000000, 0x00100000)
            })
        }

        /* COM1: 16550A UART at 0x3F8, ISA IRQ 4 (GSI 4, edge, high). */
        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16, 0x03F8, 0x03F8, 0x08, 0x08)
                IRQNoFlags () {4}
            })
        }

        /* The power button: a control-method device (FADT PWR_BUTTON). */
        Device (PWRB)
        {
            Name (_HID, EisaId ("PNP0C0C"))
            Name (_UID, Zero)
        }

        /*
         * Generic Event Device: wisp pulses GSI 9 (an edge) to press the
         * power button; _EVT turns that into Notify (PWRB, 0x80).
         */
        Device (GED0)
        {
            Name (_HID, "ACPI0013")
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {9}
            })
            Method (_EVT, 1, Serialized)
            {
                If ((Arg0 == 0x09))
                {
                    Notify (PWRB, 0x80)
                }
            }
        }

        /*
         * pvpanic: one byte at 0xFEB02000.  Reads give the events wisp
         * supports, a write reports a guest panic (Linux: pvpanic-mmio).
         */
        Device (PEVT)
        {
            Name (_HID, "QEMU0001")
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite, 0xFEB02000, 0x00000002)
            })
        }
    }
}
