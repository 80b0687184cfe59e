; pv_entry.asm - where hvlab enters the kernel when it runs it deprivileged (`--preset pv`,
; docs/hypercalls.md "The PV MMU"). The disk boot (boot_sector -> stage2 -> kernel_entry.asm)
; never comes here; the same kernel.elf is both.
;
; hvlab finds this entry in the "hvlab" ELF note below (type 1: a u64 linear address), loads
; the kernel at its physical addresses, builds an identity map of all guest RAM with 4 KiB pages
; (the page tables themselves read-only) and starts here in 64-bit mode at ring 1:
;   CS = 0x41, SS = DS = ES = 0x49 (hvlab's GDT), RSI = the start-info (kernel/pv_boot.c),
;   RSP = a boot stack of hvlab's, RFLAGS.IF = 1 for good (ring 1 cannot change it).
; From here on the kernel's interrupt flag is the event page's upcall_mask (kernel/pv_cpu.c).

        bits 64

; An ELF note (System V gABI): name size, descriptor size, type, the name padded to 4 bytes,
; the descriptor. kernel.ld keeps it in a PT_NOTE segment, where hvlab's loader looks.
        section .note.hvlab note alloc noexec nowrite align=4
        dd 6                            ; "hvlab" and its NUL
        dd 8                            ; a u64
        dd 1                            ; type 1: the PV entry
        db "hvlab", 0, 0, 0
        dq pv_entry

        section .text
        global pv_entry
        extern pv_kmain
        extern __bss_start, __bss_end, boot_stack_top
        extern cpu_pv, pv_shared

UPCALL_MASK equ 17                      ; byte offset in the event page (kernel/pv_events.h)

pv_entry:
        mov rbx, rsi                    ; keep the start-info (rep stosb uses RDI, RCX)
        cld
        mov rdi, __bss_start
        mov rcx, __bss_end
        sub rcx, rdi
        xor eax, eax
        rep stosb                       ; zero .bss, as kernel_entry.asm does
        mov byte [rel cpu_pv], 1        ; every wrapper in kernel/cpu.h takes the PV path now
        mov byte [rel pv_shared + UPCALL_MASK], 1 ; "interrupts off" until kmain's sti()
        mov rsp, boot_stack_top         ; the kernel's own boot stack, as on the disk path
        xor ebp, ebp
        mov rdi, rbx
        call pv_kmain                   ; kernel/pv_boot.c; never returns
.hang:
        jmp .hang
