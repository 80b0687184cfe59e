; pvh_entry.asm - the kernel's second way in: PVH direct boot (docs/tinyos.md "Booting through
; PVH"), as Xen, Firecracker, QEMU and `hvlab run --preset pvh --kernel kernel.elf` start a
; kernel. No BIOS, no boot sector, no stage2: the hypervisor loads kernel.elf's segments at their
; physical addresses and enters here because of the "Xen" ELF note below.
;
; Xen's PVH ABI: 32-bit protected mode, flat CS (execute/read) and DS/ES/SS (read/write), paging
; off, interrupts off, EBX = the physical address of struct hvm_start_info. No stack.
;
; We do here what stage2 does after the BIOS (boot/stage2.asm): build the boot page tables (the
; same identity map of the first 4 GiB), enable long mode and jump to the 64-bit kernel
; (boot/kernel_entry.asm: pvh_start64), which turns the start-info into the struct boot_info
; kmain() gets (kernel/start_info.c).
;
; Unlike stage2 we may not use fixed low memory: the start-info, its memory map and command line
; are wherever the loader put them (hvlab: just below 0x9F000; QEMU's PVH option ROM: around
; 0x2000, right where stage2 puts its page tables). So the tables and the stack live in the
; kernel's own memory, section .pvh_boot (after .bss, kernel/kernel.ld), which the loader has
; reserved for us along with the rest of the kernel image.

XEN_ELFNOTE_PHYS32_ENTRY equ 18

        extern pvh_start64

; The note hvlab (and Xen, QEMU) look for: owner "Xen", type 18, a 32-bit physical entry.
        section .note.Xen note alloc noexec nowrite align=4
        dd 4                            ; n_namesz: "Xen\0"
        dd 4                            ; n_descsz
        dd XEN_ELFNOTE_PHYS32_ENTRY     ; n_type
        db "Xen", 0
        dd pvh_entry

        section .pvh_boot nobits alloc write align=4096
pvh_pml4:       resb 4096
pvh_pdpt:       resb 4096
pvh_pd:         resb 4 * 4096           ; four page directories: 4 GiB
pvh_stack:      resb 4096
pvh_stack_top:

PVH_PML4        equ pvh_pml4
PVH_PDPT        equ pvh_pdpt
PVH_PD          equ pvh_pd

        section .text
        bits 32
        global pvh_entry
pvh_entry:
        cld
        mov esp, pvh_stack_top
        mov esi, ebx                    ; keep &hvm_start_info

        ; The identity map of 0-4 GiB with 2 MiB pages; the device GiB (3-4) uncached.
        mov edi, PVH_PML4
        xor eax, eax
        mov ecx, (PVH_PD + 4 * 4096 - PVH_PML4) / 4
        rep stosd
        mov dword [PVH_PML4], PVH_PDPT + 0x03     ; (page aligned: + is |)
        mov dword [PVH_PDPT + 0 * 8], (PVH_PD + 0 * 4096) + 0x03
        mov dword [PVH_PDPT + 1 * 8], (PVH_PD + 1 * 4096) + 0x03
        mov dword [PVH_PDPT + 2 * 8], (PVH_PD + 2 * 4096) + 0x03
        mov dword [PVH_PDPT + 3 * 8], (PVH_PD + 3 * 4096) + 0x03
        mov edi, PVH_PD
        xor eax, eax                    ; physical address of the current 2 MiB page
        mov ecx, 4 * 512
.entry:
        mov edx, eax
        or edx, 0x83                    ; Present | Writable | PS
        cmp eax, 0xC0000000
        jb .cached
        or edx, 0x18                    ; PWT | PCD
.cached:
        mov [edi], edx
        add eax, 0x200000
        add edi, 8
        loop .entry

        ; Long mode: PAE, CR3, EFER.LME, then paging on; a GDT with a 64-bit code segment.
        lgdt [pvh_gdt_descriptor]
        mov eax, cr4
        or eax, 1 << 5                  ; CR4.PAE
        mov cr4, eax
        mov eax, PVH_PML4
        mov cr3, eax
        mov ecx, 0xC0000080             ; IA32_EFER
        rdmsr
        or eax, 1 << 8                  ; EFER.LME
        wrmsr
        mov eax, cr0
        or eax, 1 << 31                 ; CR0.PG -> EFER.LMA
        mov cr0, eax
        jmp 0x18:.long_mode

        bits 64
.long_mode:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov edi, esi                    ; pvh_start64(&hvm_start_info)
        jmp pvh_start64

        section .rodata
        align 8
pvh_gdt:                                ; the same descriptors as stage2's temporary GDT
        dq 0
        dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code
        dq 0x00CF92000000FFFF           ; 0x10: data
        dq 0x00AF9A000000FFFF           ; 0x18: 64-bit code
pvh_gdt_end:
pvh_gdt_descriptor:
        dw pvh_gdt_end - pvh_gdt - 1
        dd pvh_gdt
