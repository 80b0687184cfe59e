; compute-loop.asm - the interpreter benchmark: a boot sector with a compute loop.
;
; Loaded at 0000:7C00 like a boot sector (the benchmark puts it there directly), it
; enters 32-bit protected mode with flat segments and runs
;
;     add / xor / rol / mov store / mov load / add / dec / jnz
;
; ITERATIONS times (8 instructions per iteration; the benchmark patches the dword at
; `iterations`), then writes EAX's low byte to isa-debug-exit (port 0xF4) so the result is
; observable, and halts.

        bits 16
        org 0x7c00

start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7c00
        o32 lgdt [gdt_descriptor]
        mov eax, cr0
        or eax, 1                       ; CR0.PE: protected mode
        mov cr0, eax
        jmp dword 0x08:protected        ; reload CS with the flat 32-bit code segment

        bits 32
protected:
        mov ax, 0x10                    ; flat 32-bit data segment
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, 0x7c00
        mov ecx, [iterations]
        mov esi, 0x100000               ; a scratch dword at 1 MiB
        mov eax, 0x12345678
        mov ebx, 0x9abcdef0
.loop:
        add eax, ebx
        xor ebx, eax
        rol eax, 3
        mov [esi], eax
        mov edx, [esi]
        add ebx, edx
        dec ecx
        jnz .loop
        out 0xf4, al                    ; stop: status = (al << 1) | 1
        hlt

        align 4
iterations:
        dd 1000

        align 8
gdt:
        dq 0                            ; null
        dq 0x00cf9a000000ffff           ; 0x08: flat 32-bit code, ring 0
        dq 0x00cf92000000ffff           ; 0x10: flat 32-bit data, ring 0
gdt_descriptor:
        dw gdt_descriptor - gdt - 1
        dd gdt

        times 510 - ($ - $$) db 0
        dw 0xaa55                       ; boot signature
