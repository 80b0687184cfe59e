; bios.asm - the hvlab BIOS: a small PC BIOS for a QEMU-"pc"-like machine
; (i440FX + PIIX3), enough for boot sectors, boot loaders and small
; operating systems.  Read docs/firmware-bios.md first.
;
; The image is a 64 KiB ROM (see firmware/include/rom.inc for how it is
; mapped: at 0xFFFF0000 and aliased at 0xF0000-0xFFFFF).  After reset the
; CPU runs the far jump at offset 0xFFF0, which lands at post_entry below:
; POST (power-on self test) brings up the machine step by step, writing a
; POST code to port 0x80 before each step, then INT 19h boots from disk.
;
; Files (all assembled into this one image, in this order):
;   defs.inc        memory layout, BDA/EBDA fields, ports, POST codes
;   macros.inc      POST, PRINT, the register frame of the services
;   util.asm        console, numbers, CMOS, PIT delays, flat MMIO access
;   video.asm       VGA text mode, teletype, INT 10h
;   interrupts.asm  IVT, 8259A, 8254, RTC, IRQ handlers, INT 11h/12h/1Ah
;   keyboard.asm    i8042, IRQ 1, COM1 input, INT 16h
;   memory.asm      A20, fw_cfg, the E820 map, INT 15h
;   pci.asm         PCI enumeration and routing, INT 1Ah B1xxh
;   ata.asm         ATA PIO driver
;   disk.asm        INT 13h
;   tables.asm      local APIC / IOAPIC setup, MP and ACPI tables
;   boot.asm        INT 19h, INT 18h

%include "rom.inc"
%include "defs.inc"
%include "macros.inc"

%define HVLAB_BIOS_VERSION "1.0"

        bits 16

; ====================================================================== POST

post_entry:
        cli                             ; no IVT yet: no interrupts
        cld
        POST POST_RESET
        ; A stack in low RAM, then zero the IVT, the BDA and 0x500-0x5FF.
        xor ax, ax
        mov ss, ax
        mov sp, POST_STACK_TOP
        mov ds, ax
        mov es, ax
        xor di, di
        mov cx, 0x600 / 2
        rep stosw

        ; ---- COM1: 115200 baud, 8N1 (firmware/include/rom.inc)
        POST POST_SERIAL
        SERIAL_INIT

        ; ---- BDA and EBDA
        POST POST_BDA
        call bda_init                   ; also sets FS = EBDA

        ; ---- interrupt vectors, interrupt controllers, timer, RTC
        POST POST_IVT
        call ivt_init
        POST POST_PIC
        call pic_init
        POST POST_PIT
        call pit_init
        POST POST_RTC
        call rtc_init

        ; ---- A20 (needs the PIT for the 8042 timeouts)
        POST POST_A20
        call a20_enable

        ; ---- the screen: from here on PRINT shows text on it and on COM1
        POST POST_VIDEO
        xor al, al
        call vga_set_mode3
        PRINTLN "hvlab BIOS ", HVLAB_BIOS_VERSION, " - i440FX/PIIX3 PC, serial console on COM1"

        ; ---- fw_cfg, CPUs, memory map
        POST POST_MEMORY
        call fwcfg_detect
        call cpus_init
        POST POST_E820
        call memory_init
        call print_memory

        ; ---- local APIC virtual wire, IOAPIC ID
        POST POST_APIC
        call apic_init

        ; ---- keyboard
        POST POST_KEYBOARD
        call keyboard_init
        jnc .keyboard_ok
        PRINTLN "keyboard controller: no answer (continuing without keyboard)"
.keyboard_ok:

        ; ---- PCI
        POST POST_PCI
        call pci_init

        ; ---- disks
        POST POST_DISKS
        call ata_detect
        mov al, [fs:EB_DRIVE_COUNT]
        mov [BDA_DISK_COUNT + 0x400], al  ; (DS = 0 here: BDA at 0x400)

        ; ---- MP and ACPI tables
        POST POST_TABLES
        call tables_init

        ; ---- the banner
        call print_banner

        ; ---- interrupts on, boot
        POST POST_IRQ_ON
        sti
        int 0x19
        jmp int18_handler               ; (INT 19h does not return)

; bda_init: the BIOS data area fields POST owns, and the EBDA.  DS = 0.
; Leaves FS = EBDA.
bda_init:
        push ax
        push cx
        push di
        push es
        mov word [0x400 + BDA_COM_BASE], COM1
        mov word [0x400 + BDA_EBDA_SEG], EBDA_SEG_FIXED
        mov word [0x400 + BDA_EQUIPMENT], EQUIPMENT_WORD
        mov word [0x400 + BDA_MEM_KIB], BASE_MEM_KIB
        mov word [0x400 + BDA_KBD_HEAD], BDA_KBD_BUF
        mov word [0x400 + BDA_KBD_TAIL], BDA_KBD_BUF
        mov word [0x400 + BDA_KBD_BUF_START], BDA_KBD_BUF
        mov word [0x400 + BDA_KBD_BUF_END], BDA_KBD_BUF_END_DEF
        mov byte [0x400 + BDA_KBD_FLAGS3], KF3_101KEY
        ; the EBDA: zeroed, first byte = its size in KiB
        mov ax, EBDA_SEG_FIXED
        mov es, ax
        mov fs, ax
        xor di, di
        xor ax, ax
        mov cx, EB_END / 2
        rep stosw
        mov byte [es:EB_SIZE_KIB], EBDA_KIB
        mov byte [es:EB_CPUS], 1
        pop es
        pop di
        pop cx
        pop ax
        ret

; cpus_init: EB_CPUS = the CPU count fw_cfg reports (1 without fw_cfg),
; at most MAX_CPUS.
cpus_init:
        push ax
        cmp byte [fs:EB_FWCFG], 1
        jne .out
        mov ax, FWCFG_NB_CPUS
        call fwcfg_select
        push dx
        mov dx, PORT_FWCFG_DATA
        in al, dx
        mov ah, al
        in al, dx
        xchg al, ah                     ; little-endian u16
        pop dx
        test ax, ax
        jz .out
        cmp ax, MAX_CPUS
        jbe .store
        PRINTLN "more CPUs than the tables describe: listing the first 32"
        mov ax, MAX_CPUS
.store:
        mov [fs:EB_CPUS], al
.out:
        pop ax
        ret

; print_memory: the E820 map, one range per line.
print_memory:
        pushad
        PRINT "memory map ("
        cmp byte [fs:EB_FWCFG], 1
        jne .cmos
        PRINT "fw_cfg etc/e820"
        jmp .header_done
.cmos:
        PRINT "CMOS"
.header_done:
        PRINTLN "):"
        mov cx, [fs:EB_E820_COUNT]
        mov si, EB_E820
.next:
        test cx, cx
        jz .done
        PRINT "  "
        mov eax, [fs:si + 4]            ; base, 64-bit
        call print_hex32
        mov eax, [fs:si]
        call print_hex32
        PRINT " - "
        mov eax, [fs:si]                ; last byte = base + length - 1
        mov edx, [fs:si + 4]
        add eax, [fs:si + 8]
        adc edx, [fs:si + 12]
        sub eax, 1
        sbb edx, 0
        xchg eax, edx
        call print_hex32
        xchg eax, edx
        call print_hex32
        mov eax, [fs:si + 16]
        cmp eax, 1
        jne .not_ram
        PRINTLN " usable"
        jmp .advance
.not_ram:
        cmp eax, 2
        jne .other
        PRINTLN " reserved"
        jmp .advance
.other:
        PRINT " type "
        call print_dec
        NEWLINE
.advance:
        add si, 20
        dec cx
        jmp .next
.done:
        popad
        ret

; print_banner: "hvlab BIOS: 128 MiB RAM (636 KiB base), 1 CPU, 1 disk"
print_banner:
        pushad
        PRINT "hvlab BIOS: "
        call ram_total_mib
        call print_dec
        PRINT " MiB RAM ("
        movzx eax, word [0x400 + BDA_MEM_KIB]
        call print_dec
        PRINT " KiB base), "
        movzx eax, byte [fs:EB_CPUS]
        call print_dec
        PRINT " CPU"
        cmp al, 1
        je .cpu_one
        PRINT "s"
.cpu_one:
        PRINT ", "
        movzx eax, byte [fs:EB_DRIVE_COUNT]
        call print_dec
        PRINT " disk"
        cmp al, 1
        je .disk_one
        PRINT "s"
.disk_one:
        PRINT ", "
        movzx eax, word [fs:EB_PCI_COUNT]
        call print_dec
        PRINTLN " PCI functions"
        popad
        ret

; ================================================================= the rest

%include "util.asm"
%include "video.asm"
%include "interrupts.asm"
%include "keyboard.asm"
%include "memory.asm"
%include "pci.asm"
%include "ata.asm"
%include "disk.asm"
%include "tables.asm"
%include "boot.asm"

; ======================================================= the top of the ROM
; Fixed addresses of a PC BIOS: the reset vector (F000:FFF0), the BIOS date
; (F000:FFF5, "mm/dd/yy") and the model byte (F000:FFFE, FCh = AT).

        times RESET_VECTOR - ($ - $$) db 0xFF
reset_vector:
        jmp ROM_SEGMENT:post_entry      ; first instruction after reset
        db "01/01/25"                   ; BIOS date
        db 0xFF
        db 0xFC                         ; model: PC/AT
        db 0xFF
