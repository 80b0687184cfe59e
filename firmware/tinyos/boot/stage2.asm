; stage2.asm - stage 2 of the boot: from 16-bit real mode to the 64-bit kernel.
;
; The boot sector loaded us at 0000:8000 and the kernel right behind us at 0x9000.
; In order, we
;   1. set up COM1 so we can print progress without the BIOS,
;   2. ask the BIOS for the physical memory map (INT 15h EAX=E820h) -> struct boot_info at 0x500,
;   3. enable the A20 line (else every odd MiB aliases the even one below it),
;   4. build page tables that identity-map the first 4 GiB with 2 MiB pages,
;   5. enter 32-bit protected mode (CR0.PE), then long mode (CR4.PAE, CR3, EFER.LME, CR0.PG),
;   6. copy the kernel to 1 MiB (real mode could not reach it) and jump to it with
;      RDI = address of struct boot_info (the System V calling convention's first argument).
;
; Intel SDM vol. 3, section 9.8 "Initializing IA-32e mode" lists the exact order of step 5.

%include "layout.inc"

        bits 16
        org STAGE2_ADDR

stage2:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, REAL_MODE_STACK_TOP
        sti
        cld
        mov byte [BOOT_INFO_ADDR + 4], dl       ; boot_info.boot_drive
        mov byte [BOOT_INFO_ADDR + 5], dh       ; boot_info.load_method
        mov dword [BOOT_INFO_ADDR], BOOT_INFO_MAGIC

        call serial_init
        mov si, msg_stage2
        call print

        call read_e820
        call enable_a20
        call build_page_tables

        mov si, msg_long_mode
        call print
        jmp enter_protected_mode

; ---------------------------------------------------------------------------------------------
; serial_init: program the 16550 UART at COM1 for 115200 baud, 8 data bits, no parity, 1 stop.
; (National Semiconductor PC16550D datasheet, section 8: registers)
serial_init:
        mov dx, COM1 + 1                ; IER: no interrupts while we poll
        xor al, al
        out dx, al
        mov dx, COM1 + 3                ; LCR bit 7 = DLAB: ports +0/+1 become the baud divisor
        mov al, 0x80
        out dx, al
        mov dx, COM1 + 0                ; divisor latch low: 115200 / 1 = 115200 baud
        mov al, 1
        out dx, al
        mov dx, COM1 + 1                ; divisor latch high
        xor al, al
        out dx, al
        mov dx, COM1 + 3                ; LCR = 0x03: 8 bits, no parity, 1 stop bit, DLAB off
        mov al, 0x03
        out dx, al
        ret

; print: zero-terminated string at DS:SI to the screen (INT 10h AH=0Eh); the hvlab BIOS mirrors
; the screen to COM1, so headless runs show it once.
print:
        pusha
.next:
        lodsb
        test al, al
        jz .done
        mov ah, 0x0E
        xor bh, bh
        int 0x10
        jmp .next
.done:
        popa
        ret

; ---------------------------------------------------------------------------------------------
; read_e820: INT 15h EAX=E820h, "query system address map" (ACPI spec, section 15.1).
; Each call returns one 24-byte entry {base, length, type, ACPI attributes} at ES:DI and a
; continuation value in EBX; EBX = 0 (or CF set after the first entry) means "that was the last".
read_e820:
        mov di, BOOT_INFO_ADDR + 8      ; boot_info.e820[0]
        xor ebx, ebx                    ; continuation: 0 = start
        xor bp, bp                      ; entries stored
.next:
        mov dword [di + 20], 1          ; ACPI 3.0 attribute "valid", in case the BIOS skips it
        mov eax, 0xE820
        mov edx, 0x534D4150             ; 'SMAP' signature
        mov ecx, E820_ENTRY_SIZE
        int 0x15
        jc .done
        cmp eax, 0x534D4150             ; the BIOS echoes the signature back
        jne .done
        test ecx, ecx                   ; an empty entry: skip it
        jz .skip
        inc bp
        add di, E820_ENTRY_SIZE
        cmp bp, BOOT_INFO_MAX_E820
        jae .done
.skip:
        test ebx, ebx
        jnz .next
.done:
        mov [BOOT_INFO_ADDR + 6], bp    ; boot_info.e820_count
        test bp, bp
        jnz .ok
        mov si, msg_no_e820             ; the kernel will refuse to run without a map
        call print
.ok:
        ret

; ---------------------------------------------------------------------------------------------
; enable_a20: the 8086 wrapped addresses at 1 MiB; PCs keep that behaviour (address line 20
; forced to 0) until software enables "A20". We try, checking after each step:
;   already on (most modern BIOSes) -> "fast A20" via port 0x92 bit 1 -> the 8042 keyboard
;   controller's output port bit 1 (command 0xD1, the original IBM AT method).
enable_a20:
        call a20_is_on
        jnc .done
        in al, 0x92                     ; System Control Port A
        test al, 0x02
        jnz .try_8042
        or al, 0x02                     ; bit 1: A20 gate
        and al, 0xFE                    ; bit 0 would reset the machine: keep it clear
        out 0x92, al
        call a20_is_on
        jnc .done
.try_8042:
        call wait_8042_input
        mov al, 0xD1                    ; 8042 command: write output port
        out 0x64, al
        call wait_8042_input
        mov al, 0xDF                    ; output port value with bit 1 (A20) set
        out 0x60, al
        call wait_8042_input
        call a20_is_on
        jnc .done
        mov si, msg_no_a20
        call print
.halt:
        hlt
        jmp .halt
.done:
        ret

wait_8042_input:                        ; status port 0x64 bit 1: input buffer still full
        in al, 0x64
        test al, 0x02
        jnz wait_8042_input
        ret

; a20_is_on: CF clear if 0000:0600 and FFFF:0610 (= 0x100600) are different bytes of memory.
a20_is_on:
        push ds
        push es
        xor ax, ax
        mov ds, ax
        not ax
        mov es, ax                      ; ES = 0xFFFF
        mov si, 0x0600
        mov di, 0x0610
        mov bl, [ds:si]                 ; save both bytes
        mov bh, [es:di]
        mov byte [ds:si], 0x00
        mov byte [es:di], 0xFF          ; with A20 off this overwrites 0x600 too
        cmp byte [ds:si], 0xFF
        mov [es:di], bh                 ; restore (order matters if they alias)
        mov [ds:si], bl
        pop es
        pop ds
        je .off
        clc
        ret
.off:
        stc
        ret

; ---------------------------------------------------------------------------------------------
; build_page_tables: identity map (virtual = physical) the first 4 GiB.
;   PML4[0] -> PDPT; PDPT[0..3] -> four page directories; each PD entry maps one 2 MiB page
;   (bit 7 PS). Flags: bit 0 Present, bit 1 Writable. The 4th GiB holds memory-mapped devices
;   (the e1000's registers, the APICs), so those entries also get bit 3 PWT and bit 4 PCD:
;   uncached, as device registers must be (SDM vol. 3, section 4.9 / 11.12).
; The kernel builds its own tables later (kernel/vmm.c); these only need to get it started.
build_page_tables:
        push es
        xor ax, ax
        mov es, ax
        mov di, PML4_ADDR               ; clear 0x1000 - 0x6FFF
        xor eax, eax
        mov cx, (PD_ADDR + 4 * 4096 - PML4_ADDR) / 4
        rep stosd
        mov dword [PML4_ADDR], PDPT_ADDR | 0x03
        mov dword [PDPT_ADDR + 0 * 8], (PD_ADDR + 0 * 4096) | 0x03
        mov dword [PDPT_ADDR + 1 * 8], (PD_ADDR + 1 * 4096) | 0x03
        mov dword [PDPT_ADDR + 2 * 8], (PD_ADDR + 2 * 4096) | 0x03
        mov dword [PDPT_ADDR + 3 * 8], (PD_ADDR + 3 * 4096) | 0x03
        mov di, PD_ADDR
        xor eax, eax                    ; physical address of the current 2 MiB page
        mov cx, 4 * 512
.entry:
        mov edx, eax
        or edx, 0x83                    ; Present | Writable | PS (2 MiB page)
        cmp eax, 0xC0000000
        jb .cached
        or edx, 0x18                    ; PWT | PCD for the device GiB
.cached:
        mov [di], edx                   ; the high dword stays 0: all below 4 GiB
        add eax, 0x200000
        add di, 8
        loop .entry
        pop es
        ret

; ---------------------------------------------------------------------------------------------
; Temporary GDT (the kernel loads its own in kernel/gdt.c). Descriptor bits: SDM vol. 3, 3.4.5.
        align 8
gdt:
        dq 0                            ; 0x00: the null descriptor
        dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code, base 0, limit 4 GiB, ring 0
        dq 0x00CF92000000FFFF           ; 0x10: data, base 0, limit 4 GiB, ring 0
        dq 0x00AF9A000000FFFF           ; 0x18: 64-bit code (L=1, D=0), ring 0
gdt_end:
gdt_descriptor:
        dw gdt_end - gdt - 1
        dd gdt

enter_protected_mode:
        cli                             ; no BIOS interrupts from here on: there is no IDT
        lgdt [gdt_descriptor]
        mov eax, cr0
        or eax, 1                       ; CR0.PE: protection enable
        mov cr0, eax
        jmp dword 0x08:protected_mode   ; far jump loads CS with the 32-bit code segment

        bits 32
protected_mode:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, REAL_MODE_STACK_TOP

        mov eax, cr4
        or eax, 1 << 5                  ; CR4.PAE: 64-bit page table entries (needed for long mode)
        mov cr4, eax
        mov eax, PML4_ADDR              ; CR3: physical address of the PML4
        mov cr3, eax
        mov ecx, 0xC0000080             ; IA32_EFER MSR
        rdmsr
        or eax, 1 << 8                  ; EFER.LME: long mode enable
        wrmsr
        mov eax, cr0
        or eax, 1 << 31                 ; CR0.PG: paging on -> long mode becomes active (EFER.LMA)
        mov cr0, eax
        jmp 0x18:long_mode              ; load the 64-bit code segment

        bits 64
long_mode:
        mov rsi, KERNEL_LOAD_ADDR       ; copy the kernel to where it was linked
        mov rdi, KERNEL_RUN_ADDR
        mov rcx, KERNEL_SECTORS * 512 / 8
        rep movsq
        mov rsp, REAL_MODE_STACK_TOP
        mov rdi, BOOT_INFO_ADDR         ; kmain's argument
        mov rax, KERNEL_RUN_ADDR
        jmp rax                         ; boot/kernel_entry.asm: _start

msg_stage2      db "tinyos stage2: E820, A20, page tables", 13, 10, 0
msg_long_mode   db "tinyos stage2: entering long mode", 13, 10, 0
msg_no_e820     db "stage2: no E820 memory map", 13, 10, 0
msg_no_a20      db "stage2: cannot enable A20", 13, 10, 0

        times STAGE2_SECTORS * 512 - ($ - $$) db 0
