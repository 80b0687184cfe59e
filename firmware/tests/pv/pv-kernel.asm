; pv-kernel.asm - a deprivileged (ring 1) 64-bit test kernel for privileged P (the PV MMU,
; docs/hypercalls.md "The PV MMU"). hvlab loads it from its "hvlab" ELF note and enters it at
; ring 1 on an identity map it built and pinned. Without ever running a privileged instruction
; successfully, it:
;
;   - checks its entry (CPL 1, start-info magic, the L4 and first-free fields, CPUID's pv_mmu bit)
;     and prints through CONSOLE_WRITE;
;   - installs a trap table (#UD, #GP, #PF and the upcall vector) and a ring-1 stack (STACK_SWITCH);
;   - takes a page fault on purpose and reads CR2 back (READ_CR2); writes to its own page tables
;     fault too (they are mapped read-only, CR0.WP);
;   - checks that CLI, STI, HLT, MOV CR, RDMSR/WRMSR, INVLPG, LIDT, LGDT, LTR, SWAPGS, SYSRET and
;     a closed port all raise #GP at ring 1 (SYSCALL is #UD until SET_SYSCALL_ENTRY), that POPF
;     leaves IF alone and that the PCI configuration port is open;
;   - builds a second address space from free pages (makes them read-only in the identity map,
;     pins the L4, MMU_SET_CR3) and uses it;
;   - tries the forbidden things (map hvlab's page, map a table writable, L4 slot 511, a large
;     page, an update outside a table, a table loop, a table outside RAM, an unaligned entry, pin
;     while mapped writable, switch to an unpinned L4, console_read or event_init into a page
;     table) and checks each error;
;   - enters ring 3 with IRETQ; there CLI raises #GP on the ring-1 stack, and two SYSCALLs come
;     back to the kernel through hvlab's bounce, events masked (the first returns to ring 3 with IRETQ);
;   - takes a timer upcall after BLOCK (with upcall_mask set by hvlab as it injected it).
;
; It prints "pv: all checks passed" and writes 0x10 to isa-debug-exit (status 33), or prints
; "pv: FAIL ..." lines and writes 0x11 (status 35).
;
; Built with nasm -f elf64 and ld -T linker.ld (firmware/tests/pv/CMakeLists.txt) at 1 MiB.

        bits 64
        default rel

HC_PORT             equ 0x0b00
HC_CONSOLE_WRITE    equ 1
HC_CONSOLE_READ     equ 2
HC_TIME_NOW         equ 3
HC_TIMER_SET        equ 4
HC_EVENT_INIT       equ 5
HC_BLOCK            equ 8
HC_MMU_UPDATE       equ 16
HC_MMU_PIN          equ 17
HC_MMU_SET_CR3      equ 19
HC_SET_TRAP_TABLE   equ 21
HC_STACK_SWITCH     equ 22
HC_SET_SYSCALL_ENTRY equ 23
HC_READ_CR2         equ 24

ENOSYS              equ -38
EINVAL              equ -22
EFAULT              equ -14
EBUSY               equ -16
EPERM               equ -1

KERNEL_CS           equ 0x41
USER_CS             equ 0x2b
USER_DS             equ 0x23
UPCALL_VECTOR       equ 0x40
START_MAGIC         equ 0x336ec578
SI_MEMMAP           equ 40
SI_MEMMAP_ENTRIES   equ 48
SI_L4               equ 56
SI_FIRST_FREE       equ 64

PTE_P               equ 1
PTE_RW              equ 2
PTE_US              equ 4
PTE_PS              equ 0x80
ADDR_MASK           equ 0x000ffffffffff000

USER_BASE           equ 0x8000000000    ; L4 slot 1 of the second address space
UNMAPPED            equ 0x7fff00000000  ; L4 slot 255: nothing there
DEBUG_EXIT_PORT     equ 0xf4

; Free pages after the first-free address, in this order.
PG_L4               equ 0
PG_L3               equ 1
PG_L2               equ 2
PG_L1               equ 3
PG_USER_CODE        equ 4
PG_USER_STACK       equ 5
PG_EVENTS           equ 6
FREE_PAGES          equ 7

; HC n: EAX = n, DX = the hypercall port; arguments in RBX, RCX, RSI; the result in RAX.
%macro HC 1
        mov eax, %1
        mov dx, HC_PORT
        out dx, eax
%endmacro

; EXPECT value, "what": RAX must equal value, or a FAIL line names what.
%macro EXPECT 2
        mov rdx, %1
        cmp rax, rdx
        je %%ok
        lea rsi, [%%what]
        call fail
        jmp %%ok
%%what: db %2, 0
%%ok:
%endmacro

; FAULTS vector, "what", instruction: the instruction must raise `vector` (and is skipped).
%macro FAULTS 3
        mov qword [fault_vector], -1
        lea rax, [%%recover]
        mov [recover_rip], rax
        %3
%%recover:
        mov rax, [fault_vector]
        EXPECT %1, %2
%endmacro

; ---------------------------------------------------------------------------------------------
        section .note.hvlab note alloc noexec nowrite align=4
        dd 6                    ; n_namesz: "hvlab" and its NUL
        dd 8                    ; n_descsz: the u64 entry
        dd 1                    ; n_type: the PV entry point
        db "hvlab", 0, 0, 0     ; the name, padded to 4
        dq _start

; ---------------------------------------------------------------------------------------------
        section .text
        global _start
_start:
        mov [start_info], rsi
        mov [kernel_rsp], rsp
        lea rsi, [msg_hello]
        call print

        ; ---- the entry state ----
        mov ax, cs
        and rax, 3
        EXPECT 1, "CPL 1 at entry"
        mov rbx, [start_info]
        mov eax, [rbx]
        EXPECT START_MAGIC, "start-info magic"
        mov rax, [rbx + SI_L4]
        mov [boot_l4], rax
        test rax, rax
        jnz .l4_ok
        lea rsi, [msg_no_l4]
        call fail
.l4_ok:
        mov rax, [rbx + SI_FIRST_FREE]
        mov [free_base], rax
        lea rdx, [image_end]
        cmp rax, rdx
        ja .free_ok
        lea rsi, [msg_bad_free]
        call fail
.free_ok:
        mov eax, 0x40000001
        cpuid
        mov eax, ebx
        and eax, 8
        EXPECT 8, "CPUID 0x40000001 offers pv_mmu"

        ; ---- traps ----
        lea rbx, [trap_table]
        mov rcx, TRAP_COUNT
        HC HC_SET_TRAP_TABLE
        EXPECT 0, "set_trap_table"
        lea rbx, [bad_trap_table]
        mov rcx, 1
        HC HC_SET_TRAP_TABLE
        EXPECT EINVAL, "set_trap_table with DPL 0 refused"
        lea rbx, [ring1_stack_top]
        HC HC_STACK_SWITCH
        EXPECT 0, "stack_switch"

        ; ---- page faults and CR2 ----
        mov rbx, UNMAPPED
        FAULTS 14, "a read of an unmapped page faults", {mov rax, [rbx]}
        mov rax, [fault_cr2]
        EXPECT UNMAPPED, "read_cr2 after the page fault"
        mov rax, [fault_error]
        EXPECT 0, "the #PF error code (read, not present, supervisor)"
        mov rbx, [boot_l4]
        FAULTS 14, "a write to the kernel's own L4 faults (read-only, CR0.WP)", {mov [rbx + 8], rax}
        mov rax, [fault_error]
        EXPECT 3, "the #PF error code (write, present, supervisor)"
        lea rsi, [msg_faults]
        call print

        ; ---- privileged instructions: #GP at ring 1, never an exit ----
        lea rbx, [scratch_descriptor]
        FAULTS 13, "cli", cli
        FAULTS 13, "sti", sti
        FAULTS 13, "hlt", hlt
        FAULTS 13, "mov cr3", {mov cr3, rax}
        FAULTS 13, "mov from cr0", {mov rax, cr0}
        FAULTS 13, "rdmsr", rdmsr
        FAULTS 13, "wrmsr", wrmsr
        FAULTS 13, "invlpg", {invlpg [rbx]}
        FAULTS 13, "lidt", {lidt [rbx]}
        FAULTS 13, "lgdt", {lgdt [rbx]}
        FAULTS 13, "ltr", {ltr ax}
        FAULTS 13, "swapgs", swapgs
        FAULTS 6, "syscall before set_syscall_entry is #UD", syscall
        mov dx, 0x3f8
        FAULTS 13, "in from COM1 (a closed port)", {in al, dx}
        ; POPF at ring 1 leaves IF alone: the real IF stays 1.
        pushfq
        and qword [rsp], ~0x200
        popfq
        pushfq
        pop rax
        and rax, 0x200
        EXPECT 0x200, "popf cannot clear IF at ring 1"
        ; The PCI configuration ports are open to ring 1.
        mov qword [fault_vector], -1
        mov eax, 0x80000000
        mov dx, 0xcf8
        out dx, eax
        mov dx, 0xcfc
        in eax, dx
        and eax, 0xffff
        EXPECT 0x8086, "PCI configuration read at ring 1 (host bridge vendor)"
        lea rsi, [msg_privileged]
        call print

        ; ---- a second address space ----
        mov rdi, [free_base]
        mov rcx, FREE_PAGES * 4096 / 8
        xor eax, eax
        rep stosq
        ; The tables, written while they are still ordinary writable pages.
        mov rbx, [free_base]
        mov rax, [boot_l4]
        mov rax, [rax]                              ; the boot L4's slot 0: its L3, shared
        mov [rbx + PG_L4 * 4096], rax
        lea rax, [rbx + PG_L3 * 4096 + (PTE_P | PTE_RW | PTE_US)]
        mov [rbx + PG_L4 * 4096 + 8], rax           ; slot 1: USER_BASE
        lea rax, [rbx + PG_L2 * 4096 + (PTE_P | PTE_RW | PTE_US)]
        mov [rbx + PG_L3 * 4096], rax
        lea rax, [rbx + PG_L1 * 4096 + (PTE_P | PTE_RW | PTE_US)]
        mov [rbx + PG_L2 * 4096], rax
        lea rax, [rbx + PG_USER_CODE * 4096 + (PTE_P | PTE_US)]
        mov [rbx + PG_L1 * 4096], rax               ; user code: read-only
        lea rax, [rbx + PG_USER_STACK * 4096 + (PTE_P | PTE_RW | PTE_US)]
        mov [rbx + PG_L1 * 4096 + 8], rax           ; user stack
        lea rsi, [user_code]
        lea rdi, [rbx + PG_USER_CODE * 4096]
        mov rcx, user_code_end - user_code
        rep movsb
        ; Still mapped writable: it cannot be pinned.
        mov rbx, [free_base]
        mov rcx, rbx
        mov ebx, 4
        HC HC_MMU_PIN
        EXPECT EBUSY, "pin an L4 that is mapped writable"
        ; Read-only in the identity map (one batch of four updates), then pin and switch.
        xor r12, r12
.make_ro:
        mov rdi, r12
        shl rdi, 12
        add rdi, [free_base]
        call pte_address
        lea rdx, [update_list]
        mov rcx, r12
        shl rcx, 4
        mov [rdx + rcx], rax                        ; the entry
        mov rax, rdi
        or rax, PTE_P                               ; the same page, read-only
        mov [rdx + rcx + 8], rax
        inc r12
        cmp r12, 4
        jb .make_ro
        lea rbx, [update_list]
        mov rcx, 4
        HC HC_MMU_UPDATE
        EXPECT 4, "mmu_update: four tables read-only"
        mov rcx, [free_base]
        mov ebx, 4
        HC HC_MMU_PIN
        EXPECT 0, "pin the new L4"
        mov rbx, [free_base]
        HC HC_MMU_SET_CR3
        EXPECT 0, "mmu_set_cr3 to the new L4"
        ; The new space maps the user stack page at USER_BASE + 0x1000.
        mov rax, 0x1122334455667788
        mov rbx, USER_BASE + 0x1000
        mov [rbx], rax
        mov rbx, [free_base]
        mov rax, [rbx + PG_USER_STACK * 4096]
        mov rdx, 0x1122334455667788
        cmp rax, rdx
        je .space_ok
        lea rsi, [msg_space]
        call fail
.space_ok:
        lea rsi, [msg_switched]
        call print

        ; ---- forbidden: each request is refused with its error ----
        call hvlab_page
        mov rsi, rax
        or rsi, PTE_P
        mov rdi, [free_base]
        add rdi, PG_L1 * 4096 + 2 * 8
        call mmu_update1
        EXPECT EPERM, "map one of hvlab's pages"
        mov rdi, [free_base]
        lea rsi, [rdi + PG_L2 * 4096 + (PTE_P | PTE_RW)]
        add rdi, PG_L1 * 4096 + 2 * 8
        call mmu_update1
        EXPECT EPERM, "map a page table writable"
        mov rdi, [boot_l4]
        call pte_address
        mov rdi, rax
        mov rsi, [boot_l4]
        or rsi, PTE_P | PTE_RW
        call mmu_update1
        EXPECT EPERM, "make the boot L4's mapping writable"
        mov rdi, [free_base]
        add rdi, PG_L4 * 4096 + 511 * 8
        xor esi, esi
        call mmu_update1
        EXPECT EPERM, "L4 slot 511"
        mov rdi, [free_base]
        add rdi, PG_L4 * 4096 + 300 * 8
        xor esi, esi
        call mmu_update1
        EXPECT EPERM, "L4 slot 300"
        mov rdi, [free_base]
        add rdi, PG_L2 * 4096 + 8
        mov rsi, 0x200000 | PTE_P | PTE_RW | PTE_PS
        call mmu_update1
        EXPECT EINVAL, "a 2 MiB page"
        mov rdi, [free_base]
        add rdi, PG_USER_STACK * 4096 + 8
        xor esi, esi
        call mmu_update1
        EXPECT EINVAL, "an update outside a page table"
        mov rdi, [free_base]
        add rdi, PG_L1 * 4096 + 3
        xor esi, esi
        call mmu_update1
        EXPECT EINVAL, "an unaligned entry"
        mov rdi, [free_base]
        lea rsi, [rdi + PG_L2 * 4096 + (PTE_P | PTE_RW)]
        add rdi, PG_L2 * 4096 + 2 * 8
        call mmu_update1
        EXPECT EBUSY, "an L2 pointing at itself"
        mov ebx, 1
        mov rcx, 0x100000000
        HC HC_MMU_PIN
        EXPECT EFAULT, "pin a table outside RAM"
        mov rbx, [free_base]
        add rbx, PG_USER_STACK * 4096
        HC HC_MMU_SET_CR3
        EXPECT EINVAL, "switch to a page that is not a pinned L4"
        ; Nor may hvlab write a page table on the kernel's behalf (a buffer, the event page).
        mov rbx, [boot_l4]
        mov ecx, 64
        HC HC_CONSOLE_READ
        EXPECT EPERM, "console_read into a page table"
        mov rbx, [free_base]
        add rbx, PG_L1 * 4096
        mov ecx, UPCALL_VECTOR
        HC HC_EVENT_INIT
        EXPECT EPERM, "event_init on a page table"
        mov rbx, [free_base]
        FAULTS 14, "a write to the new L1 faults", {mov [rbx + PG_L1 * 4096 + 16], rax}
        lea rsi, [msg_forbidden]
        call print

        ; ---- ring 3 and back (with an event page, to see the bounce mask events) ----
        mov rbx, [free_base]
        add rbx, PG_EVENTS * 4096
        mov [event_page], rbx
        mov ecx, UPCALL_VECTOR
        HC HC_EVENT_INIT
        EXPECT 0, "event_init"
        lea rbx, [syscall_entry]
        HC HC_SET_SYSCALL_ENTRY
        EXPECT 0, "set_syscall_entry"
        FAULTS 13, "sysret at ring 1", {o64 sysret}
        mov rax, USER_BASE + (user_after_cli - user_code)
        mov [recover_rip], rax
        mov qword [fault_vector], -1
        mov [kernel_rsp], rsp
        push USER_DS
        mov rax, USER_BASE + 0x2000
        push rax                                    ; the user's stack
        push 0x202                                  ; IF on
        push USER_CS
        mov rax, USER_BASE
        push rax
        iretq                                       ; ring 1 -> ring 3
after_user:
        mov rax, [user_fault_cs]
        EXPECT USER_CS, "cli at ring 3 faulted from ring 3"
        mov rax, [user_fault_ss]
        EXPECT 1, "SS on the ring-1 stack is NULL with RPL 1"
        mov rax, [user_fault_rsp]
        lea rdx, [ring1_stack_top]
        sub rdx, rax
        cmp rdx, 64
        jbe .rsp1_ok
        lea rsi, [msg_rsp1]
        call fail
.rsp1_ok:
        mov rax, [sc1_rax]
        EXPECT 42, "syscall 1 arrived with RAX"
        mov rax, [sc1_rdx]
        EXPECT 0x5555, "syscall 1 kept RDX"
        mov rax, [sc1_cs]
        EXPECT KERNEL_CS, "the syscall entry runs at ring 1"
        mov rax, [sc1_rcx]
        EXPECT USER_BASE + (user_after_syscall - user_code), "RCX = the user's return address"
        mov rax, [sc1_rsp]
        EXPECT USER_BASE + 0x2000, "RSP = the user's stack"
        mov rax, [sc1_mask]
        EXPECT 1, "hvlab masked events at the SYSCALL bounce (still on the user's stack)"
        mov rax, [sc2_rax]
        EXPECT 43, "syscall 2 after IRETQ back to ring 3"
        mov rax, [sc2_rdi]
        EXPECT 7, "ring 3 got syscall 1's result"
        lea rsi, [msg_ring3]
        call print

        ; ---- a timer upcall while blocked ----
        HC HC_TIME_NOW
        lea rbx, [rax + 1000000]
        HC HC_TIMER_SET
        EXPECT 0, "timer_set"
        HC HC_BLOCK
        cmp rax, ENOSYS
        jne .blocked
        ; Without BLOCK: wait for the upcall with interrupts (and upcalls) on.
        mov rcx, 10000000
.spin:  cmp qword [upcalls], 0
        jne .blocked
        dec rcx
        jnz .spin
.blocked:
        mov rax, [upcalls]
        EXPECT 1, "one timer upcall"
        movzx eax, byte [mask_at_upcall]
        EXPECT 1, "hvlab set upcall_mask as it injected the upcall"
        mov rax, [pending_at_upcall]
        EXPECT 1, "event 0 (the timer) was pending"
        mov rbx, [event_page]
        mov byte [rbx + 17], 0                      ; virtual IF back on
        lea rsi, [msg_upcall]
        call print

        ; ---- the end ----
        cmp qword [failures], 0
        jne .failed
        lea rsi, [msg_pass]
        call print
        mov al, 0x10
        out DEBUG_EXIT_PORT, al
        jmp $
.failed:
        lea rsi, [msg_failed]
        call print
        mov al, 0x11
        out DEBUG_EXIT_PORT, al
        jmp $

; ---------------------------------------------------------------------------------------------
; print: the NUL-terminated string at RSI to the PV console. Keeps every register.
print:
        push rax
        push rbx
        push rcx
        push rdx
        push rdi
        mov rdi, rsi
        xor ecx, ecx
.len:   cmp byte [rdi + rcx], 0
        je .write
        inc rcx
        jmp .len
.write: mov rbx, rsi
        HC HC_CONSOLE_WRITE
        pop rdi
        pop rdx
        pop rcx
        pop rbx
        pop rax
        ret

; fail: "pv: FAIL <what at RSI> (got <RAX in hex>)", and counts it.
fail:
        push rax
        push rsi
        lea rsi, [msg_fail]
        call print
        pop rsi
        call print
        pop rax
        lea rdi, [hex_digits + 16]
        mov ecx, 16
.digit: mov edx, eax
        and edx, 15
        lea r8, [hex_chars]
        mov dl, [r8 + rdx]
        dec rdi
        mov [rdi], dl
        shr rax, 4
        dec ecx
        jnz .digit
        lea rsi, [msg_got]
        call print
        inc qword [failures]
        ret

; mmu_update1: one update (RDI = the entry's address, RSI = the value); the result in RAX.
mmu_update1:
        lea rbx, [update_list]
        mov [rbx], rdi
        mov [rbx + 8], rsi
        mov ecx, 1
        HC HC_MMU_UPDATE
        cmp rax, 1
        jne .done
        xor eax, eax
.done:  ret

; pte_address: the guest-physical address of the boot L1 entry that maps RDI (identity map),
; found by reading the boot tables, which the kernel may read but not write. Keeps RDI.
pte_address:
        mov rax, [boot_l4]
        mov rcx, 39
.level: mov rdx, rdi
        shr rdx, cl
        and rdx, 511
        lea rax, [rax + rdx * 8]
        cmp rcx, 12
        je .found
        mov rax, [rax]
        mov rdx, ADDR_MASK
        and rax, rdx
        sub rcx, 9
        jmp .level
.found: ret

; hvlab_page: the first page of the reserved memory-map entry above 1 MiB (hvlab's own pages).
hvlab_page:
        mov rbx, [start_info]
        mov ecx, [rbx + SI_MEMMAP_ENTRIES]
        mov rbx, [rbx + SI_MEMMAP]
.entry: cmp dword [rbx + 16], 2
        jne .next
        cmp qword [rbx], 0x100000
        jb .next
        mov rax, [rbx]
        ret
.next:  add rbx, 24
        dec ecx
        jnz .entry
        xor eax, eax
        ret

; ---- trap handlers (64-bit trap gates to ring 1) ----
ud_handler:
        push 0                                      ; no error code: make the frame alike
        mov qword [fault_vector], 6
        jmp fault_common
gp_handler:
        mov qword [fault_vector], 13
        jmp fault_common
pf_handler:
        mov qword [fault_vector], 14
        push rax
        push rdx
        HC HC_READ_CR2
        mov [fault_cr2], rax
        pop rdx
        pop rax
        jmp fault_common
; The frame: error code, RIP, CS, RFLAGS, RSP, SS. Goes on at recover_rip, in the ring it came from.
fault_common:
        mov [user_fault_rsp], rsp
        push rax
        mov ax, ss
        movzx eax, ax
        mov [user_fault_ss], rax
        mov rax, [rsp + 8]
        mov [fault_error], rax
        mov rax, [rsp + 24]
        mov [user_fault_cs], rax
        mov rax, [recover_rip]
        mov [rsp + 16], rax
        pop rax
        add rsp, 8
        iretq

; The event upcall: records what it finds, acknowledges and returns (upcall_mask stays set).
upcall_handler:
        push rax
        push rbx
        mov rbx, [event_page]
        mov al, [rbx + 17]
        mov [mask_at_upcall], al
        mov rax, [rbx]
        mov [pending_at_upcall], rax
        mov byte [rbx + 16], 0
        mov qword [rbx], 0
        inc qword [upcalls]
        pop rbx
        pop rax
        iretq

; SYSCALL from ring 3 lands here at ring 1 (after hvlab's bounce): the user's RSP, RCX = its
; RIP, R11 = its RFLAGS.
syscall_entry:
        cmp eax, 42
        jne .second
        mov [sc1_rax], rax
        mov [sc1_rdx], rdx
        mov [sc1_rcx], rcx
        mov [sc1_rsp], rsp
        mov ax, cs
        movzx eax, ax
        mov [sc1_cs], rax
        mov r9, [event_page]
        movzx r8d, byte [r9 + 17]                   ; upcall_mask as the bounce left it
        mov [sc1_mask], r8
        mov byte [r9 + 17], 0                       ; virtual IF on again for ring 3
        push USER_DS                                ; back to ring 3 with IRETQ (SYSRET is ring 0's)
        push qword [sc1_rsp]
        push r11
        push USER_CS
        push rcx
        mov eax, 7
        iretq
.second:
        mov [sc2_rax], rax
        mov [sc2_rdi], rdi
        mov rsp, [kernel_rsp]
        jmp after_user

; Ring-3 code, copied to USER_BASE.
user_code:
        mov edx, 0x5555
        cli                                         ; #GP -> ring 1; resumes below
user_after_cli:
        mov eax, 42
        syscall
user_after_syscall:
        mov rdi, rax
        mov eax, 43
        syscall
        ud2
user_code_end:

; ---------------------------------------------------------------------------------------------
        section .data
trap_table:
        db 6, 1, 0, 0, 0, 0, 0, 0
        dq ud_handler
        db 13, 1, 0, 0, 0, 0, 0, 0
        dq gp_handler
        db 14, 1, 0, 0, 0, 0, 0, 0
        dq pf_handler
        db UPCALL_VECTOR, 1, 0, 0, 0, 0, 0, 0
        dq upcall_handler
TRAP_COUNT equ ($ - trap_table) / 16
bad_trap_table:
        db 13, 0, 0, 0, 0, 0, 0, 0                  ; DPL 0: refused
        dq gp_handler

hex_chars:      db "0123456789abcdef"
msg_hello:      db "pv: hello from ring 1", 10, 0
msg_faults:     db "pv: page faults and read_cr2 ok", 10, 0
msg_privileged: db "pv: privileged instructions raise #GP at ring 1", 10, 0
msg_switched:   db "pv: second address space pinned and loaded", 10, 0
msg_forbidden:  db "pv: forbidden page-table updates refused", 10, 0
msg_ring3:      db "pv: ring 3, #GP to ring 1, two system calls through the bounce", 10, 0
msg_upcall:     db "pv: timer upcall after block", 10, 0
msg_pass:       db "pv: all checks passed", 10, 0
msg_failed:     db "pv: some checks FAILED", 10, 0
msg_fail:       db "pv: FAIL ", 0
msg_got:        db " (got 0x"
hex_digits:     db "0000000000000000)", 10, 0
msg_no_l4:      db "start-info L4 field is 0", 0
msg_bad_free:   db "start-info first-free is not past the kernel", 0
msg_space:      db "the second space does not map the user stack page", 0
msg_rsp1:       db "the ring-3 fault did not switch to TSS.RSP1", 0

; ---------------------------------------------------------------------------------------------
        section .bss
        alignb 16
start_info:         resq 1
boot_l4:            resq 1
free_base:          resq 1
kernel_rsp:         resq 1
failures:           resq 1
fault_vector:       resq 1
fault_error:        resq 1
fault_cr2:          resq 1
recover_rip:        resq 1
user_fault_cs:      resq 1
user_fault_ss:      resq 1
user_fault_rsp:     resq 1
sc1_rax:            resq 1
sc1_rdx:            resq 1
sc1_rcx:            resq 1
sc1_rsp:            resq 1
sc1_cs:             resq 1
sc2_rax:            resq 1
sc2_rdi:            resq 1
event_page:         resq 1
upcalls:            resq 1
sc1_mask:           resq 1
pending_at_upcall:  resq 1
mask_at_upcall:     resb 8
scratch_descriptor: resb 16
update_list:        resq 8
        alignb 16
ring1_stack:        resb 4096
ring1_stack_top:
image_end:
