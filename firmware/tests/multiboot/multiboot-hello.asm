; multiboot-hello.asm - a Multiboot v1 (spec 0.6.96) test kernel for direct boot.
;
; Checks that it was entered as the spec says (EAX = 0x2BADB002, EBX = the info structure,
; BSS zeroed), loads its own GDT, then reports on COM1 (0x3F8, polled):
;
;   multiboot: hello from <cmdline>
;   multiboot: loader <boot_loader_name>
;   multiboot: mem_lower <KiB> KiB, mem_upper <KiB> KiB
;   multiboot: <n> mmap entries
;   multiboot: <n> modules
;   multiboot: module <i>: <string> (<size> bytes)       (one line per module)
;   multiboot: pass
;
; and stops through isa-debug-exit (port 0xF4): 0x10 on success, 0x11 on failure, after a
; "multiboot: FAIL <reason>" line. With QEMU's convention (status = value * 2 + 1) the
; process exits with 33 on success and 35 on failure; it then halts with interrupts off.
;
; Built two ways (firmware/tests/multiboot/CMakeLists.txt):
;   nasm -f elf32 + ld -m elf_i386 -T linker.ld  -> multiboot-hello.elf (ELF, loaded at 1 MiB)
;   nasm -f bin -DAOUT_KLUDGE                    -> multiboot-hello-aout.bin (flags bit 16: the
;                                                   loader uses the header's address fields)

MB_HEADER_MAGIC equ 0x1BADB002
MB_BOOT_MAGIC   equ 0x2BADB002
MB_PAGE_ALIGN   equ 1 << 0
MB_MEMORY_INFO  equ 1 << 1
MB_AOUT_KLUDGE  equ 1 << 16

; Boot information (3.3): flag bits and field offsets.
INFO_MEMORY     equ 1 << 0
INFO_CMDLINE    equ 1 << 2
INFO_MODS       equ 1 << 3
INFO_MMAP       equ 1 << 6
INFO_LOADER     equ 1 << 9
INFO_FLAGS      equ 0
INFO_MEM_LOWER  equ 4
INFO_MEM_UPPER  equ 8
INFO_CMDLINE_P  equ 16
INFO_MODS_COUNT equ 20
INFO_MODS_ADDR  equ 24
INFO_MMAP_LEN   equ 44
INFO_MMAP_ADDR  equ 48
INFO_LOADER_P   equ 64

COM1            equ 0x3F8
DEBUG_EXIT_PORT equ 0xF4
EXIT_PASS       equ 0x10
EXIT_FAIL       equ 0x11

%ifdef AOUT_KLUDGE
        org 0x100000
MB_FLAGS equ MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_AOUT_KLUDGE
        section .text
%else
MB_FLAGS equ MB_PAGE_ALIGN | MB_MEMORY_INFO
        section .multiboot progbits alloc noexec nowrite align=4
%endif

        bits 32
image_start:
        align 4
mb_header:
        dd MB_HEADER_MAGIC
        dd MB_FLAGS
        dd -(MB_HEADER_MAGIC + MB_FLAGS)
%ifdef AOUT_KLUDGE
        dd mb_header            ; header_addr
        dd image_start          ; load_addr
        dd load_end             ; load_end_addr
        dd bss_end              ; bss_end_addr
        dd start                ; entry_addr
%endif

        section .text
        global start
start:
        cli
        cld
        mov esp, stack_top
        mov [boot_magic], eax
        mov [boot_info], ebx

        ; Our own GDT: a kernel may not rely on the loader's (3.2: GDTR may be invalid).
        lgdt [gdt_descriptor]
        jmp 0x08:.reloaded
.reloaded:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax

        call serial_init
        cmp dword [boot_magic], MB_BOOT_MAGIC
        mov esi, msg_bad_magic
        jne fail
        cmp dword [bss_canary], 0
        mov esi, msg_bss_dirty
        jne fail

        mov ebx, [boot_info]
        mov edi, [ebx + INFO_FLAGS]

        ; multiboot: hello from <cmdline>
        test edi, INFO_CMDLINE
        mov esi, msg_no_cmdline
        jz fail
        mov esi, msg_hello
        call puts
        mov esi, [ebx + INFO_CMDLINE_P]
        call puts
        call newline

        ; multiboot: loader <name>
        test edi, INFO_LOADER
        jz .no_loader_name
        mov esi, msg_loader
        call puts
        mov esi, [ebx + INFO_LOADER_P]
        call puts
        call newline
.no_loader_name:

        ; multiboot: mem_lower <n> KiB, mem_upper <n> KiB
        test edi, INFO_MEMORY
        mov esi, msg_no_memory
        jz fail
        mov esi, msg_mem_lower
        call puts
        mov eax, [ebx + INFO_MEM_LOWER]
        call put_decimal
        mov esi, msg_mem_upper
        call puts
        mov eax, [ebx + INFO_MEM_UPPER]
        call put_decimal
        mov esi, msg_kib
        call puts
        call newline

        ; multiboot: <n> mmap entries (each entry: size, then `size` bytes)
        test edi, INFO_MMAP
        mov esi, msg_no_mmap
        jz fail
        mov esi, [ebx + INFO_MMAP_ADDR]
        mov edx, esi
        add edx, [ebx + INFO_MMAP_LEN]
        xor ecx, ecx
.next_entry:
        cmp esi, edx
        jae .counted
        inc ecx
        mov eax, [esi]
        lea esi, [esi + eax + 4]
        jmp .next_entry
.counted:
        test ecx, ecx
        mov esi, msg_empty_mmap
        jz fail
        mov esi, msg_prefix
        call puts
        mov eax, ecx
        call put_decimal
        mov esi, msg_mmap_entries
        call puts
        call newline

        ; multiboot: <n> modules, then one line per module
        xor ecx, ecx
        test edi, INFO_MODS
        jz .have_count
        mov ecx, [ebx + INFO_MODS_COUNT]
.have_count:
        mov esi, msg_prefix
        call puts
        mov eax, ecx
        call put_decimal
        mov esi, msg_modules
        call puts
        call newline
        test ecx, ecx
        jz .modules_done
        mov ebp, [ebx + INFO_MODS_ADDR]
        xor edx, edx                    ; module index
.next_module:
        mov esi, msg_module
        call puts
        mov eax, edx
        call put_decimal
        mov esi, msg_colon
        call puts
        mov esi, [ebp + 8]              ; string
        call puts
        mov esi, msg_open
        call puts
        mov eax, [ebp + 4]              ; mod_end - mod_start
        sub eax, [ebp]
        call put_decimal
        mov esi, msg_bytes
        call puts
        call newline
        test dword [ebp], 0xFFF         ; flags bit 0 asked for page-aligned modules
        mov esi, msg_unaligned
        jnz fail
        add ebp, 16
        inc edx
        cmp edx, ecx
        jb .next_module
.modules_done:

        mov esi, msg_pass
        call puts
        call newline
        mov al, EXIT_PASS
        out DEBUG_EXIT_PORT, al
        jmp halt

; Prints "multiboot: FAIL <esi>" and exits with EXIT_FAIL.
fail:
        push esi
        mov esi, msg_fail
        call puts
        pop esi
        call puts
        call newline
        mov al, EXIT_FAIL
        out DEBUG_EXIT_PORT, al
halt:
        cli
        hlt
        jmp halt

; COM1: 8N1, interrupts off, FIFOs on. The divisor is left alone: the line is virtual.
serial_init:
        mov dx, COM1 + 1
        xor al, al
        out dx, al                      ; IER = 0
        mov dx, COM1 + 3
        mov al, 0x03
        out dx, al                      ; LCR = 8N1, DLAB off
        mov dx, COM1 + 2
        mov al, 0x07
        out dx, al                      ; FCR: FIFOs on and cleared
        ret

; Sends AL to COM1 once the transmitter holding register is empty (LSR bit 5).
putc:
        push edx
        push eax
        mov dx, COM1 + 5
.wait:
        in al, dx
        test al, 0x20
        jz .wait
        pop eax
        mov dx, COM1
        out dx, al
        pop edx
        ret

; Prints the NUL-terminated string at ESI (at most 4096 bytes: a missing NUL cannot run away).
puts:
        push eax
        push ecx
        push esi
        mov ecx, 4096
.loop:
        lodsb
        test al, al
        jz .done
        call putc
        loop .loop
.done:
        pop esi
        pop ecx
        pop eax
        ret

newline:
        push eax
        mov al, 13
        call putc
        mov al, 10
        call putc
        pop eax
        ret

; Prints EAX in decimal.
put_decimal:
        push eax
        push ecx
        push edx
        push ebx
        mov ebx, 10
        xor ecx, ecx
.divide:
        xor edx, edx
        div ebx
        push edx
        inc ecx
        test eax, eax
        jnz .divide
.print:
        pop eax
        add al, '0'
        call putc
        loop .print
        pop ebx
        pop edx
        pop ecx
        pop eax
        ret

        align 8
gdt:
        dq 0
        dq 0x00CF9B000000FFFF           ; 0x08: flat 32-bit code
        dq 0x00CF93000000FFFF           ; 0x10: flat data
gdt_end:
gdt_descriptor:
        dw gdt_end - gdt - 1
        dd gdt

msg_hello:        db "multiboot: hello from ", 0
msg_loader:       db "multiboot: loader ", 0
msg_mem_lower:    db "multiboot: mem_lower ", 0
msg_mem_upper:    db " KiB, mem_upper ", 0
msg_kib:          db " KiB", 0
msg_prefix:       db "multiboot: ", 0
msg_mmap_entries: db " mmap entries", 0
msg_modules:      db " modules", 0
msg_module:       db "multiboot: module ", 0
msg_colon:        db ": ", 0
msg_open:         db " (", 0
msg_bytes:        db " bytes)", 0
msg_pass:         db "multiboot: pass", 0
msg_fail:         db "multiboot: FAIL ", 0
msg_bad_magic:    db "EAX is not 0x2BADB002", 0
msg_bss_dirty:    db "the BSS was not zeroed", 0
msg_no_cmdline:   db "no command line (info flags bit 2 clear)", 0
msg_no_memory:    db "no mem_lower/mem_upper (info flags bit 0 clear)", 0
msg_no_mmap:      db "no memory map (info flags bit 6 clear)", 0
msg_empty_mmap:   db "the memory map is empty", 0
msg_unaligned:    db "a module is not page aligned", 0
load_end:

        section .bss
        alignb 16
boot_magic:     resd 1
boot_info:      resd 1
bss_canary:     resd 1
                resb 4096 - 12
stack_top:
bss_end:
