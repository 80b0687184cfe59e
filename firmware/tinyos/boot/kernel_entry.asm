; kernel_entry.asm - the first instructions of the 64-bit kernel (linked at 1 MiB, see
; kernel/kernel.ld). stage2 jumps here in long mode, interrupts off, with RDI = &boot_info.
;
; C code expects three things that nobody has set up yet:
;   - a stack of its own (stage2's is 3 KiB under 0x7C00),
;   - a zeroed .bss (objcopy -O binary does not store it, so it holds whatever was in RAM),
;   - its arguments in registers (RDI stays untouched for kmain(struct boot_info *)).

        bits 64
        section .text.entry
        global _start
        extern kmain
        extern __bss_start, __bss_end

_start:
        mov rbx, rdi                    ; keep &boot_info (rep stosb below uses RDI)
        mov rdi, __bss_start
        mov rcx, __bss_end
        sub rcx, rdi
        xor eax, eax
        rep stosb                       ; zero .bss
        mov rsp, boot_stack_top         ; 16-byte aligned, as the ABI wants before a call
        xor ebp, ebp                    ; end of the frame-pointer chain for debuggers
        mov rdi, rbx
        call kmain                      ; kernel/main.c; never returns
.halt:
        cli
        hlt
        jmp .halt

        section .bss
        align 16
        global boot_stack_top
boot_stack:
        resb 16384                      ; later the scheduler's own stack (kernel/sched.c)
boot_stack_top:
