// Direct boot as QEMU's -kernel/-initrd/-append do it: read the files, tell a Linux bzImage, a
// PVH ELF kernel and a multiboot kernel apart, load it into guest memory and return the
// processor state to start from.
// No firmware runs: the VMM puts the returned state into the vCPU and runs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cpu/cpu_state.hpp"
#include "hv/boot/e820.hpp"
#include "hv/boot/multiboot_loader.hpp"
#include "mmu/physical_map.hpp"

namespace hvlab::hv {
class PvMachine;
}

namespace hvlab::hv::boot {

enum class KernelFormat { LinuxBzImage, Pvh, PvKernel, Multiboot, Unknown };
const char* kernelFormatName(KernelFormat format);

// As QEMU decides: a Linux setup header ("HdrS") first, then an ELF with Xen's PVH entry note
// (XEN_ELFNOTE_PHYS32_ENTRY), an ELF64 with the "hvlab" note (a PV kernel for privileged P,
// hv/boot/pv_boot.hpp), then a multiboot header.
KernelFormat detectKernelFormat(std::span<const uint8_t> image);

// Reads a whole file; throws BootImageError ("cannot open 'x': ...", "'x' is a directory",
// "'x' is N bytes, more than the M the <what> may be").
std::vector<uint8_t> readBootFile(const std::string& path, const std::string& what, uint64_t maxBytes);

// QEMU's multiboot module list: "file args,file2 args" (",," is a literal comma). Each module's
// string is its whole text; the file is the text up to the first space. Reads the files.
std::vector<MultibootModule> readMultibootModules(const std::string& list, uint64_t maxBytes);

struct DirectBootRequest {
    std::string kernelPath;  // --kernel
    std::string initrd;      // --initrd: Linux: one file; multiboot and PVH: the module list above
    std::string append;      // --append
};

struct DirectBootResult {
    KernelFormat format = KernelFormat::Unknown;
    cpu::CpuState entry;
    std::string summary;  // one line: format, entry point, where things went
};

// Loads the kernel for a VM with `memoryBytes` of RAM (VmConfig::memoryBytes) into `memory`,
// with the E820 map pcMemoryMap(memoryBytes). Multiboot kernels get "kernel-path append" as
// their command line (as from QEMU and GRUB), Linux and PVH kernels `append` alone.
// A PV kernel needs `pv` (the VM's hvlab-owned machine: privileged P) and gets its initrd as
// modules (the multiboot list syntax) and `append` as its command line; a VM with `pv` boots
// nothing else. Throws BootImageError.
DirectBootResult loadDirectBoot(const DirectBootRequest& request, mmu::PhysicalMap& memory, uint64_t memoryBytes,
                                PvMachine* pv = nullptr);

}  // namespace hvlab::hv::boot
