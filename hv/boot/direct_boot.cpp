#include "hv/boot/direct_boot.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sys/stat.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/linux_loader.hpp"
#include "hv/boot/linux_setup_header.hpp"
#include "hv/boot/multiboot_header.hpp"
#include "hv/boot/pv_boot.hpp"
#include "hv/boot/pvh_loader.hpp"

namespace hvlab::hv::boot {

const char* kernelFormatName(KernelFormat format) {
    switch (format) {
        case KernelFormat::LinuxBzImage: return "Linux bzImage";
        case KernelFormat::Pvh: return "PVH ELF kernel";
        case KernelFormat::Multiboot: return "multiboot kernel";
        case KernelFormat::PvKernel: return "PV kernel (hvlab note)";
        case KernelFormat::Unknown: return "unknown";
    }
    return "?";
}

KernelFormat detectKernelFormat(std::span<const uint8_t> image) {
    if (linux_boot::hasLinuxHeader(image)) return KernelFormat::LinuxBzImage;
    if (hasPvhEntryNote(image)) return KernelFormat::Pvh;
    if (isPvKernel(image)) return KernelFormat::PvKernel;
    if (multiboot::findHeader(image)) return KernelFormat::Multiboot;
    return KernelFormat::Unknown;
}

std::vector<uint8_t> readBootFile(const std::string& path, const std::string& what, uint64_t maxBytes) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0)
        throw BootImageError(fmt::format("cannot open the {} '{}': {}", what, path, std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) throw BootImageError(fmt::format("the {} '{}' is a directory", what, path));
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size > maxBytes)
        throw BootImageError(fmt::format("the {} '{}' is {} bytes, more than the {} it may be here", what, path, size,
                                         maxBytes));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw BootImageError(fmt::format("cannot open the {} '{}': {}", what, path, std::strerror(errno)));
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw BootImageError(fmt::format("cannot read the {} '{}'", what, path));
    return bytes;
}

std::vector<MultibootModule> readMultibootModules(const std::string& list, uint64_t maxBytes) {
    std::vector<std::string> specs(1);
    for (size_t i = 0; i < list.size(); ++i) {
        if (list[i] != ',') {
            specs.back() += list[i];
        } else if (i + 1 < list.size() && list[i + 1] == ',') {
            specs.back() += ',';
            ++i;
        } else {
            specs.emplace_back();
        }
    }
    std::vector<MultibootModule> modules;
    for (const std::string& spec : specs) {
        const std::string path = spec.substr(0, spec.find(' '));
        if (path.empty())
            throw BootImageError(fmt::format("multiboot module list '{}': an empty module (no file name)", list));
        modules.push_back({readBootFile(path, "multiboot module", maxBytes), spec});
    }
    return modules;
}

DirectBootResult loadDirectBoot(const DirectBootRequest& request, mmu::PhysicalMap& memory, uint64_t memoryBytes,
                                PvMachine* pv) {
    const std::vector<E820Entry> map = pcMemoryMap(memoryBytes);
    const std::vector<uint8_t> kernel = readBootFile(request.kernelPath, "kernel", memoryBytes);
    DirectBootResult result;
    result.format = detectKernelFormat(kernel);
    // A kernel with both entry notes boots the way the VM asks: PV with privileged P, else PVH.
    if (!pv && result.format == KernelFormat::PvKernel && hasPvhEntryNote(kernel)) result.format = KernelFormat::Pvh;
    if (pv && isPvKernel(kernel)) result.format = KernelFormat::PvKernel;  // detected as PVH first
    if (pv && result.format != KernelFormat::PvKernel)
        throw BootImageError(fmt::format("{}: privileged P runs a deprivileged kernel: an ELF64 with the \"hvlab\" "
                                         "note (docs/hypercalls.md); this kernel is: {}",
                                         request.kernelPath, kernelFormatName(result.format)));
    if (!pv && result.format == KernelFormat::PvKernel)
        throw BootImageError(fmt::format("{}: a PV kernel (\"hvlab\" note): it runs at ring 1 on the PV MMU, only "
                                         "with privileged P and boot P (--preset pv)",
                                         request.kernelPath));
    switch (result.format) {
        case KernelFormat::PvKernel: {
            const PvLoader loader(request.kernelPath, kernel);
            std::vector<MultibootModule> modules;
            if (!request.initrd.empty()) modules = readMultibootModules(request.initrd, memoryBytes);
            const PvBoot boot = loader.load(*pv, memory, memoryBytes, request.append, modules);
            result.entry = boot.entry;
            result.summary = fmt::format(
                "{}: PV kernel at [{:#x}, {:#x}), ring-1 entry at {:#x}, start-info at {:#x}, {} page-table pages "
                "pinned (L4 {:#x}), {} module(s), first free {:#x}",
                request.kernelPath, boot.kernelStart, boot.kernelEnd, boot.entryPoint, boot.startInfo,
                boot.pageTablePages, boot.l4, boot.modules, boot.firstFree);
            break;
        }
        case KernelFormat::LinuxBzImage: {
            const LinuxLoader loader(request.kernelPath, kernel);
            std::vector<uint8_t> initrd;
            if (!request.initrd.empty()) initrd = readBootFile(request.initrd, "initrd", memoryBytes);
            const LinuxBoot boot = loader.load(memory, map, request.append, initrd);
            result.entry = boot.entry;
            result.summary = fmt::format(
                "{}: Linux boot protocol {}, {} entry at {:#x}, kernel at {:#x}, boot_params at {:#x}{}",
                request.kernelPath, loader.header().versionText(), boot.longMode ? "64-bit" : "32-bit",
                boot.entryPoint, boot.loadAddress, boot.bootParams,
                boot.initrdSize ? fmt::format(", initrd at {:#x} ({} bytes)", boot.initrdAddress, boot.initrdSize)
                                : std::string());
            break;
        }
        case KernelFormat::Pvh: {
            const PvhLoader loader(request.kernelPath, kernel);
            std::vector<MultibootModule> modules;
            if (!request.initrd.empty()) modules = readMultibootModules(request.initrd, memoryBytes);
            const PvhBoot boot = loader.load(memory, map, request.append, modules);
            result.entry = boot.entry;
            result.summary = fmt::format("{}: PVH {} kernel, entry at {:#x}, start-info at {:#x}, {} module(s)",
                                         request.kernelPath, boot.elf64 ? "ELF64" : "ELF32", boot.entryPoint,
                                         boot.startInfo, boot.modules.size());
            break;
        }
        case KernelFormat::Multiboot: {
            const MultibootLoader loader(request.kernelPath, kernel);
            std::vector<MultibootModule> modules;
            if (!request.initrd.empty()) modules = readMultibootModules(request.initrd, memoryBytes);
            const std::string cmdline =
                request.append.empty() ? request.kernelPath : request.kernelPath + " " + request.append;
            const MultibootBoot boot = loader.load(memory, map, cmdline, modules);
            result.entry = boot.entry;
            result.summary = fmt::format("{}: multiboot {} kernel, entry at {:#x}, info at {:#x}, {} module(s)",
                                         request.kernelPath, loader.usesAoutKludge() ? "a.out-kludge" : "ELF",
                                         boot.entryPoint, boot.infoAddress, boot.modules.size());
            break;
        }
        case KernelFormat::Unknown:
            throw BootImageError(fmt::format("{}: not a kernel hvlab can boot directly: not a Linux bzImage (no "
                                             "\"HdrS\" at 0x202), not a PVH ELF kernel (no Xen "
                                             "XEN_ELFNOTE_PHYS32_ENTRY note), not a PV kernel (no \"hvlab\" note) and "
                                             "not a multiboot kernel (no valid header in the first 8 KiB)",
                                             request.kernelPath));
    }
    spdlog::debug("{}", result.summary);
    return result;
}

}  // namespace hvlab::hv::boot
