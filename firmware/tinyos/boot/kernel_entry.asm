; kernel_entry.asm - the first instructions of the 64-bit kernel (linked at 1 MiB, see
; kernel/kernel.ld). stage2 jumps here (_start) in long mode, interrupts off, with RDI =
; &boot_info. A PVH boot comes through boot/pvh_entry.asm to pvh_start64 instead, with RDI =
; &hvm_start_info, which kernel/start_info.c turns into a boot_info once .bss is zeroed.
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
        xor r12d, r12d                  ; no hvm_start_info
        jmp start_common

        global pvh_start64
        extern start_info_convert
pvh_start64:
        mov r12, rdi                    ; keep &hvm_start_info
        xor ebx, ebx

start_common:
        mov rdi, __bss_start
        mov rcx, __bss_end
        sub rcx, rdi
        xor eax, eax
        rep stosb                       ; zero .bss
        mov rsp, boot_stack_top         ; 16-byte aligned, as the ABI wants before a call
        xor ebp, ebp                    ; end of the frame-pointer chain for debuggers
        test r12, r12
        jz .have_boot_info
        mov rdi, r12                    ; PVH: boot_info from the start-info (RAX = &boot_info)
        call start_info_convert
        mov rbx, rax
.have_boot_info:
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
