; firstboot.asm - hvlab's first guest.
;
; A 64 KiB ROM image (see include/rom.inc for the layout) that takes the CPU
; from the reset vector through the three classic x86 operating modes:
;
;   16-bit real mode  ->  32-bit protected mode  ->  64-bit long mode
;
; printing a line on the COM1 serial port at each step, then runs a few
; self-checks and stops with `cli; hlt`.
;
; Build:  nasm -f bin -I firmware/include/ -o firstboot.bin firstboot.asm
; Run:    qemu-system-x86_64 -bios firstboot.bin -nographic -no-reboot \
;             -device isa-debug-exit,iobase=0xf4,iosize=1
;
; Outcome:
;   success  -> last line "firstboot done: cli; hlt", then HLT with IF=0
;               (hvlab ends the run with status 0; QEMU just sits there)
;   failure  -> a "self-check FAILED (n): ..." line, then byte n is written
;               to the debug-exit port 0xF4 (QEMU exits with (n << 1) | 1):
;                 1 CR0.PE clear          5 EFER.LMA clear
;                 2 CR0.PG clear          6 write via alias not seen at
;                 3 CR4.PAE clear           the identity address
;                 4 EFER.LME clear        7 write via identity address not
;                                           seen via the alias
;
; Everything printed depends only on the CPUID answers, so the output is
; identical on every platform that answers CPUID identically.

%include "rom.inc"
%include "longmode.inc"

        bits 16

; =====================================================================
; 16-bit real mode
; =====================================================================
; We arrive here from the reset vector (offset 0xFFF0) with CS=F000 (base
; 0xF0000), IP=entry.  Real mode: addresses are segment * 16 + offset,
; no protection, no paging.
entry:
        cli                     ; no interrupt controller and no IDT set up:
                                ;   keep maskable interrupts off
        cld                     ; string instructions count upwards

        ; A stack in RAM.  Nothing else is in RAM yet: SS = 0, SP = 0x7000.
        xor ax, ax
        mov ss, ax
        mov sp, STACK_TOP
        mov ds, ax              ; DS = ES = 0 (we use CS: for ROM data)
        mov es, ax

        ; Program the UART (a series of OUTs to ports 0x3F8-0x3FC).
        call serial_init_rm

        PRINTLN_RM "hvlab firstboot"
        PRINTLN_RM "16-bit real mode: CS=F000, running from the ROM alias at 0xF0000"

        ; Port input: read back the UART's line control register.  We wrote
        ; 0x03 (8N1) during init, so a 16550 returns 0x03.
        mov dx, UART_LCR
        in al, dx
        PRINT_RM "real mode: in al, dx from port 0x3FB (UART LCR) = 0x"
        call serial_hex8_rm
        NEWLINE_RM

        ; CPUID works in real mode too.  Leaf 0 returns the highest basic
        ; leaf in EAX (and the vendor string in EBX, EDX, ECX).  The o32
        ; (0x66) prefix lets 16-bit code use the 32-bit registers.
        xor eax, eax
        cpuid
        PRINT_RM "real mode: cpuid leaf 0: highest basic leaf = 0x"
        call serial_hex32_rm
        NEWLINE_RM

        ; ---- to 32-bit protected mode ----
        ; 1. Load GDTR with the base and limit of our GDT (see longmode.inc).
        ;    o32: load the full 32-bit base (without it only 24 bits).
        o32 lgdt [cs:gdt_descriptor]

        ; 2. Set CR0.PE.  While here, clear CR0.CD and CR0.NW, which are set
        ;    at reset, so the caches are enabled.
        mov eax, cr0
        and eax, ~(CR0_CD | CR0_NW)
        or eax, CR0_PE
        mov cr0, eax

        ; 3. We are now in protected mode, but CS still holds a real-mode
        ;    segment.  A far jump loads CS with the 32-bit code selector from
        ;    the GDT; the offset is the flat (linear) address of pm_entry.
        ;    "dword": a 32-bit offset, so the jump needs the 0x66 prefix.
        jmp dword SEL_CODE32:FLAT(pm_entry)

; =====================================================================
; 32-bit protected mode
; =====================================================================
        bits 32
pm_entry:
        ; Load the data segment registers with the flat data selector
        ; (base 0, limit 4 GiB), and set up the stack again.
        mov ax, SEL_DATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, STACK_TOP

        PRINTLN_PM "32-bit protected mode: flat 4 GiB code and data segments from the GDT"

        ; ---- to 64-bit long mode ----
        ; 1. Build the page tables in RAM (longmode.inc): identity map of
        ;    0-2 MiB through PML4 -> PDPT -> PD -> PT with 4 KiB pages, plus
        ;    the alias at 0x200000 used by the self-checks.
        call build_page_tables_pm
        PRINTLN_PM "paging: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 -> PT 0x13000 (4 KiB pages, 0-2 MiB identity)"

        ; 2. Enable PAE (CR4 bit 5): long mode uses the 64-bit PAE format.
        mov eax, cr4
        or eax, CR4_PAE
        mov cr4, eax

        ; 3. Point CR3 at the top-level table (PML4).
        mov eax, PML4_ADDR
        mov cr3, eax

        ; 4. Set EFER.LME (long mode enable).  EFER is a model-specific
        ;    register: rdmsr/wrmsr move it through EDX:EAX, ECX selects it.
        mov ecx, MSR_EFER
        rdmsr
        or eax, EFER_LME
        wrmsr

        ; 5. Enable paging (CR0 bit 31).  With LME set this activates long
        ;    mode (the CPU sets EFER.LMA); we now run in compatibility mode,
        ;    i.e. 32-bit code inside long mode.  Paging is on: this code keeps
        ;    running because the page tables map it to itself (identity).
        mov eax, cr0
        or eax, CR0_PG
        mov cr0, eax

        ; 6. A far jump to the 64-bit code selector (L=1) switches to 64-bit
        ;    mode proper.
        jmp SEL_CODE64:FLAT(lm_entry)

; =====================================================================
; 64-bit long mode
; =====================================================================
        bits 64
lm_entry:
        ; Segment bases and limits are ignored in 64-bit mode (except FS
        ; and GS bases), so DS/ES/SS can keep the flat data selector.
        ; Writing ESP zero-extends into RSP (upper halves of registers are
        ; undefined after the mode switch).
        mov esp, STACK_TOP

        PRINTLN_LM "64-bit long mode with 4-level paging"

        ; ---- CPUID leaf 0: vendor string = EBX, EDX, ECX (12 chars) ----
        xor eax, eax
        cpuid
        mov edi, SCRATCH_ADDR
        mov [rdi], ebx
        mov [rdi + 4], edx
        mov [rdi + 8], ecx
        mov byte [rdi + 12], 0
        PRINT_LM "cpuid vendor: "
        mov esi, SCRATCH_ADDR
        call serial_puts_lm
        NEWLINE_LM

        ; ---- hypervisor signature, if CPUID.1:ECX bit 31 says so ----
        ; Leaf 0x40000000: signature = EBX, ECX, EDX (e.g. "KVMKVMKVM\0\0\0",
        ; "TCGTCGTCGTCG").  Printing stops at a NUL byte.
        mov eax, 1
        cpuid
        test ecx, 1 << 31
        jz .no_hypervisor
        mov eax, 0x40000000
        cpuid
        mov edi, SCRATCH_ADDR
        mov [rdi], ebx
        mov [rdi + 4], ecx
        mov [rdi + 8], edx
        mov byte [rdi + 12], 0
        PRINT_LM "cpuid hypervisor: "
        mov esi, SCRATCH_ADDR
        call serial_puts_lm
        NEWLINE_LM
.no_hypervisor:

        ; ---- brand string: leaves 0x80000002..0x80000004, 16 bytes each ----
        ; Only if leaf 0x80000000 (highest extended leaf) reaches 0x80000004.
        mov eax, 0x80000000
        cpuid
        cmp eax, 0x80000004
        jb .no_brand            ; unsigned: also skips answers < 0x80000000
        mov edi, SCRATCH_ADDR
        mov esi, 0x80000002     ; ESI = leaf
.brand_leaf:
        mov eax, esi
        cpuid
        mov [rdi], eax
        mov [rdi + 4], ebx
        mov [rdi + 8], ecx
        mov [rdi + 12], edx
        add rdi, 16
        inc esi
        cmp esi, 0x80000005
        jne .brand_leaf
        mov byte [rdi], 0       ; terminate the 48 bytes (RDI = buffer + 48)
        ; The string is NUL-terminated inside the 48 bytes when shorter:
        ; find its real end, the first NUL.
        mov edi, SCRATCH_ADDR
.find_end:
        cmp byte [rdi], 0
        je .trim_tail
        inc rdi
        jmp .find_end
        ; Trim trailing spaces: walk back from the end.
.trim_tail:
        cmp rdi, SCRATCH_ADDR
        je .trimmed_tail
        cmp byte [rdi - 1], ' '
        jne .trimmed_tail
        dec rdi
        mov byte [rdi], 0
        jmp .trim_tail
.trimmed_tail:
        ; Trim leading spaces (Intel right-justifies its brand strings).
        mov esi, SCRATCH_ADDR
.trim_head:
        cmp byte [rsi], ' '
        jne .trimmed_head
        inc rsi
        jmp .trim_head
.trimmed_head:
        cmp byte [rsi], 0       ; nothing left (an all-blank brand string):
        je .no_brand            ;   no line at all
        PRINT_LM "cpuid brand: "
        call serial_puts_lm
        NEWLINE_LM
.no_brand:

        ; =============================================================
        ; Self-checks: read the state back and make sure it is what we set.
        ; =============================================================
        mov rax, cr0
        test eax, CR0_PE
        jz fail_cr0_pe
        test eax, CR0_PG
        jz fail_cr0_pg

        mov rax, cr4
        test eax, CR4_PAE
        jz fail_cr4_pae

        mov ecx, MSR_EFER
        rdmsr
        test eax, EFER_LME
        jz fail_efer_lme
        test eax, EFER_LMA      ; the CPU sets LMA when long mode is active
        jz fail_efer_lma

        ; Memory through the page tables.  Virtual ALIAS_BASE + x and
        ; virtual x (identity) both translate to physical x: write through
        ; one, read through the other.
        mov edi, ALIAS_BASE + 0x20000   ; virtual 0x220000 -> physical 0x20000
        mov esi, 0x20000                ; virtual 0x020000 -> physical 0x20000
        mov rax, 0x0123456789ABCDEF
        mov [rdi], rax
        mov rdx, [rsi]
        cmp rdx, rax
        jne fail_alias_to_identity
        mov rax, 0xFEDCBA9876543210
        mov [rsi], rax
        mov rdx, [rdi]
        cmp rdx, rax
        jne fail_identity_to_alias

        PRINTLN_LM "self-checks passed"
        PRINTLN_LM "firstboot done: cli; hlt"

        ; The end: HLT with interrupts disabled stops the CPU for good (only
        ; an NMI or reset could wake it; if one does, halt again).
.halt:
        cli
        hlt
        jmp .halt

; ---------------------------------------------------------------------
; Self-check failures: say which check failed (with the value read), then
; report the failure code through the debug-exit port.
; ---------------------------------------------------------------------
fail_cr0_pe:
        PRINT_LM "self-check FAILED (1): CR0.PE is clear, CR0=0x"
        call serial_hex32_lm
        mov al, 1
        jmp self_check_failed
fail_cr0_pg:
        PRINT_LM "self-check FAILED (2): CR0.PG is clear, CR0=0x"
        call serial_hex32_lm
        mov al, 2
        jmp self_check_failed
fail_cr4_pae:
        PRINT_LM "self-check FAILED (3): CR4.PAE is clear, CR4=0x"
        call serial_hex32_lm
        mov al, 3
        jmp self_check_failed
fail_efer_lme:
        PRINT_LM "self-check FAILED (4): EFER.LME is clear, EFER=0x"
        call serial_hex32_lm
        mov al, 4
        jmp self_check_failed
fail_efer_lma:
        PRINT_LM "self-check FAILED (5): EFER.LMA is clear, EFER=0x"
        call serial_hex32_lm
        mov al, 5
        jmp self_check_failed
fail_alias_to_identity:
        mov rax, rdx
        PRINT_LM "self-check FAILED (6): wrote 0x0123456789ABCDEF at virtual 0x220000, read back at virtual 0x20000: 0x"
        call serial_hex64_lm
        mov al, 6
        jmp self_check_failed
fail_identity_to_alias:
        mov rax, rdx
        PRINT_LM "self-check FAILED (7): wrote 0xFEDCBA9876543210 at virtual 0x20000, read back at virtual 0x220000: 0x"
        call serial_hex64_lm
        mov al, 7
        ; fall through

self_check_failed:              ; AL = failure code
        NEWLINE_LM
        out DEBUG_EXIT_PORT, al ; the VM stops here: exit status (AL << 1) | 1
        ; Only reached if there is no debug-exit device.  Do not end with a
        ; clean HLT (that would look like success): load an empty IDT and
        ; raise #BP, which escalates to a triple fault.
        PRINTLN_LM "no debug-exit device: forcing a triple fault"
        mov eax, FLAT(null_idt)
        lidt [rax]
        int3
        jmp self_check_failed   ; not reached

; =====================================================================
; Shared routines and data (emitted with the right `bits` for each mode)
; =====================================================================
        ROM_ROUTINES_RM
        ROM_ROUTINES_PM
        ROM_ROUTINES_LM
        PAGE_TABLE_ROUTINE_PM
        HVLAB_GDT
        NULL_IDT

        ROM_RESET_VECTOR entry
