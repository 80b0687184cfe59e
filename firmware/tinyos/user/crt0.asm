; crt0.asm - where every process starts in ring 3 ("C runtime zero").
;
; The kernel (kernel/switch.asm, process_first_entry) enters here with
;   RDI = the program's main function, RSI = its argument, RSP = top of the user stack.
; We call main(arg) with a 16-byte aligned stack, as the ABI requires, and pass its return
; value to the exit system call.

        bits 64
        section .text
        global user_start

SYS_EXIT equ 2                          ; include/tinyos/abi.h

user_start:
        mov rax, rdi
        mov rdi, rsi                    ; main's argument
        and rsp, -16
        call rax
        mov rdi, rax                    ; exit(main's return value)
        mov eax, SYS_EXIT
        syscall
        ud2                             ; exit does not return
