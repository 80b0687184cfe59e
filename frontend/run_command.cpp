#include "frontend/run_command.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>
#include <optional>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "frontend/summary.hpp"
#include "frontend/vm_config_builder.hpp"
#include "hv/boot/boot_image_error.hpp"
#include "hv/boot/direct_boot.hpp"
#include "devices/pcap_capture.hpp"
#include "devices/virtual_switch.hpp"
#include "hv/kvm_engine.hpp"
#include "hv/vm.hpp"

namespace hvlab::frontend {

namespace {

void fail(const std::string& message) { fmt::print(stderr, "hvlab: error: {}\n", message); }

// Forwards stdin to COM1 until `done`; ends quietly at EOF.
void forwardStdin(hv::Vm& vm, const std::atomic<bool>& done) {
    char buf[256];
    while (!done.load()) {
        pollfd p{STDIN_FILENO, POLLIN, 0};
        const int r = poll(&p, 1, 50);
        if (r < 0) return;
        if (r == 0) continue;
        if (p.revents & (POLLERR | POLLNVAL)) return;
        const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) return;
        vm.queueSerialInput(std::string_view(buf, static_cast<size_t>(n)));
    }
}

}  // namespace

CLI::App* addRunCommand(CLI::App& app, RunOptions& options) {
    CLI::App* run = app.add_subcommand("run", "Boot a firmware image headless: serial console on stdout, "
                                              "summary of exits on stderr");
    addRunOptions(*run, options);
    return run;
}

void addRunOptions(CLI::App& run, RunOptions& o) {
    run.add_option("--engine", o.engine, "Execution engine: interp (default) or kvm; with --preset, 'interp' picks "
                                          "the preset's variant without KVM (every VH becomes VS)")
        ->check(CLI::IsMember({"interp", "kvm"}));
    run.add_option("--preset", o.preset,
                    "A mode per concern from the virtualization spectrum (docs/presets.md): emulated, hvm, "
                    "hvm-pv-drivers, kvm, pvhvm, pvh, pv");
    run.add_option("--privileged", o.privileged, "Override: privileged instructions and page tables, vs|p|vh")
        ->check(CLI::IsMember({"vs", "p", "vh", "VS", "P", "VH"}));
    run.add_option("--boot", o.boot, "Override: motherboard and boot, vs (BIOS) | p (direct boot, no firmware)")
        ->check(CLI::IsMember({"vs", "p", "VS", "P"}));
    run.add_option("--interrupts", o.interrupts,
                    "Override: interrupts and timers, vs (emulated PIC/PIT) | p (PV timer and events) | vh (KVM's)")
        ->check(CLI::IsMember({"vs", "p", "vh", "VS", "P", "VH"}));
    run.add_option("--devices", o.devices, "Override: disk and network, vs (IDE, e1000) | p (virtio)")
        ->check(CLI::IsMember({"vs", "p", "VS", "P"}));
    run.add_option("--mem,-m", o.memory, "Guest RAM, e.g. 64M or 1G (2M to 3G)")->capture_default_str();
    run.add_flag("--trace-exits", o.traceExits, "Print every exit the VMM handles to stderr");
    run.add_option("--timeout", o.timeoutSeconds, "Stop the guest after this many seconds (0: never)")
        ->check(CLI::NonNegativeNumber);
    run.add_flag("--quiet,-q", o.quiet, "Print only the guest's output and errors, no summary");
    run.add_option("--kvm-device", o.kvmDevice, "KVM device node (for testing)")->capture_default_str();
    run.add_option("--disk", o.disks,
                    "Disk image (raw), repeatable: FILE[,readonly][,snapshot][,virtio]. IDE disks in order primary "
                    "master, primary slave, secondary master, slave; ',virtio' puts the disk on a virtio-blk device "
                    "instead (PCI 00:06.0 upwards, at most 4). With disks and no --bios the bundled hvlab BIOS boots "
                    "the first IDE disk")
        ->take_all();
    run.add_option("--kernel", o.kernel, "Boot this kernel directly, as QEMU's -kernel: a Linux bzImage, an ELF "
                                          "with Xen's PVH note, a multiboot (v1) ELF / a.out-kludge kernel, or "
                                          "(with --preset pv) an ELF with hvlab's PV note; no firmware runs");
    run.add_option("--initrd", o.initrd, "Linux: the initial ramdisk; multiboot, PVH and PV: the module "
                                          "list \"file args,file2 args\" (as QEMU)")->needs("--kernel");
    run.add_option("--append", o.append, "The kernel command line")->needs("--kernel");
    run.add_flag("--nic{e1000}", o.nic, "A NIC on hvlab's in-process switch, which connects every NIC of this "
                                         "process: --nic is an Intel e1000 (PCI 00:03.0), --nic=virtio a virtio-net "
                                         "(PCI 00:04.0); MAC 52:54:00:12:34:02")
        ->check(CLI::IsMember({"e1000", "virtio"}));
    run.add_flag("--virtio-console", o.virtioConsole, "A virtio-console (PCI 00:05.0, Linux: hvc0) whose output "
                                                      "is printed as the serial console's; stdin goes to it "
                                                      "instead of COM1");
    run.add_option("--pcap", o.pcap, "Capture every frame through the switch into this pcap file (Wireshark "
                                      "opens it); implies --nic");
    run.add_option("--vms", o.vms, "Run this many identical VMs in this process, each with a NIC on the "
                                    "switch (MACs :02, :03, ...; disks in snapshot mode); stdin goes to VM 1, the "
                                    "others' output is prefixed [vmN]")
        ->check(CLI::Range(1u, 8u));
    run.add_option("--irqchip", o.irqchip,
                    "Interrupt controllers and PIT: 'emulated' (hvlab's, VS; either engine) or 'kernel' (KVM's "
                    "in-kernel irqchip and PIT2, VH; needs --engine kvm)")
        ->check(CLI::IsMember({"emulated", "kernel"}))
        ->capture_default_str();
    run.add_option("--pv", o.pv,
                    "Paravirtual interfaces offered through hypercalls (docs/hypercalls.md), comma-separated: "
                    "console, clock (time and one-shot timer), events (event channel and upcall; not with "
                    "--irqchip kernel), or all / none (default: none, a plain PC)");
    run.add_option("--idle", o.idle,
                    "Interpreter: what a halted CPU's wait costs. 'fast' skips to the next timer event at once "
                    "(deterministic, quick tests); 'realtime' waits as long in host time (sensible network "
                    "latencies, no host CPU while idle). Default: realtime with a NIC or --vms > 1, else fast")
        ->check(CLI::IsMember({"fast", "realtime"}));
    run.add_flag("--no-reboot", o.noReboot, "Stop the VM when the guest resets the machine (as QEMU's -no-reboot) "
                                            "instead of rebooting it");
    run.add_flag("--snapshot", o.snapshot, "Write to copy-on-write overlays in memory: disk files stay untouched");
    run.add_option("image,--bios", o.image,
                    "Firmware image (a flat ROM whose last 16 bytes hold the reset vector, as QEMU's -bios); "
                    "default: the hvlab BIOS with --disk, else the bundled guest");
}

int runCommand(const RunOptions& o) {
    const unsigned vmCount = std::max(1u, o.vms);
    VmSetup setup;
    try {
        setup = buildVmSetup(o, vmCount);
    } catch (const UsageError& e) {
        fail(e.what());
        return hv::exit_status::kUsage;
    }
    hv::VmConfig& config = setup.config;
    // VM 1 owns the console; the others print their serial output as "[vmN] line" on stdout. A
    // [vmN] line never splits a line of VM 1: when VM 1 is mid-line (a prompt), it starts on a new one.
    std::mutex outputMutex;
    bool vm1MidLine = false;
    config.serialOut = [&outputMutex, &vm1MidLine](uint8_t byte) {
        std::lock_guard lock(outputMutex);
        std::fputc(byte, stdout);
        vm1MidLine = byte != '\n';
        if (byte == '\n') std::fflush(stdout);
    };
    if (o.traceExits) {
        config.onExit = [](const hv::ExitRecord& r) {
            fmt::print(stderr, "exit {:>6} {:>10.3f} ms  {:<14} rip={:#010x}  {}  ({} ns)\n", r.sequence,
                       r.timeNs / 1e6, cpu::exitReasonName(r.exit.reason), r.exit.rip, cpu::describeExit(r.exit),
                       r.costNs);
        };
    }
    const std::unique_ptr<devices::PcapCapture>& capture = setup.capture;
    const std::unique_ptr<devices::VirtualSwitch>& network = setup.network;

    std::vector<std::unique_ptr<hv::Vm>> vms;
    std::vector<std::string> lineBuffers(vmCount);
    try {
        for (unsigned k = 0; k < vmCount; ++k) {
            hv::VmConfig c = configForVm(setup, k);
            if (k > 0) {
                std::string& line = lineBuffers[k];
                c.serialOut = [&line, &outputMutex, &vm1MidLine, k](uint8_t byte) {
                    if (byte == '\r') return;
                    if (byte != '\n') {
                        line.push_back(static_cast<char>(byte));
                        return;
                    }
                    std::lock_guard lock(outputMutex);
                    fmt::print(stdout, "{}[vm{}] {}\n", vm1MidLine ? "\n" : "", k + 1, line);
                    vm1MidLine = false;
                    line.clear();
                };
            }
            auto vm = std::make_unique<hv::Vm>(std::move(c));  // loads a --kernel (errors: BootImageError)
            if (!o.quiet && k == 0 && !vm->directBootSummary().empty())
                fmt::print(stderr, "hvlab: {}\n", vm->directBootSummary());
            vms.push_back(std::move(vm));
        }
    } catch (const hv::boot::BootImageError& e) {
        fail(e.what());
        return hv::exit_status::kUsage;
    } catch (const hv::ImageError& e) {
        fail(e.what());
        return hv::exit_status::kUsage;
    } catch (const hv::KvmUnavailable& e) {
        fail(fmt::format("KVM is not usable here: {} (try --engine interp{})", e.what(),
                         o.preset.empty() ? "" : ": the preset's variant without KVM"));
        return hv::exit_status::kKvmUnavailable;
    } catch (const std::exception& e) {
        fail(e.what());
        return hv::exit_status::kUsage;
    }

    // SIGINT/SIGTERM are taken by this (monitor) thread; each VM's exit loop runs on its own thread.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    const auto started = std::chrono::steady_clock::now();
    std::vector<hv::RunOutcome> outcomes(vmCount);
    std::atomic<bool> done{false};  // VM 1 (the console's) has stopped: the others are stopped too
    std::vector<std::thread> vcpus;
    for (unsigned k = 0; k < vmCount; ++k) {
        vcpus.emplace_back([&, k] {
            try {
                outcomes[k] = vms[k]->run();
            } catch (const std::exception& e) {
                outcomes[k] = {hv::StopKind::EngineError, hv::exit_status::kEngineError, 0, e.what()};
            }
            if (k == 0) done.store(true);
        });
    }
    std::thread input([&] { forwardStdin(*vms[0], done); });

    while (!done.load()) {
        timespec wait{0, 20'000'000};
        siginfo_t info;
        const int sig = sigtimedwait(&stopSignals, &info, &wait);
        if (sig == SIGINT || sig == SIGTERM)
            for (auto& vm : vms) vm->stop(hv::exit_status::kInterrupted, fmt::format("stopped by signal {}", sig));
        {
            std::lock_guard lock(outputMutex);
            std::fflush(stdout);  // a prompt without a newline must reach the user too
        }
        if (o.timeoutSeconds > 0 &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() > o.timeoutSeconds)
            for (auto& vm : vms) vm->stop(hv::exit_status::kTimeout, fmt::format("timed out after {} s", o.timeoutSeconds));
    }
    for (size_t k = 1; k < vms.size(); ++k) vms[k]->stop(hv::exit_status::kOk, "stopped with vm1");
    for (std::thread& t : vcpus) t.join();
    input.join();
    std::fflush(stdout);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    const hv::RunOutcome& outcome = outcomes[0];
    const bool failed = !hv::endedCleanly(outcome.kind);
    if (failed) fail(outcome.message);
    if (!o.quiet) {
        for (size_t k = 0; k < vms.size(); ++k) {
            if (vms.size() > 1) fmt::print(stderr, "--- vm{} ---\n", k + 1);
            printSummary(stderr, *vms[k], outcomes[k], seconds, /*withOutcome=*/k > 0 || !failed);
        }
        if (network) {
            fmt::print(stderr, "network: {} ports, {} frames flooded", network->portCount(), network->floodedFrames());
            if (capture) fmt::print(stderr, ", every frame captured in {}", o.pcap);
            fmt::print(stderr, "\n");
        }
    }
    return outcome.exitStatus;
}

}  // namespace hvlab::frontend
