// `hvlab run`: boot an image headless, serial console on stdout, summary on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace hvlab::frontend {

struct RunOptions {
    std::string engine;  // "interp" (the default when empty) or "kvm"
    std::string memory = "128M";
    std::string image;  // empty: the bundled guest
    bool traceExits = false;
    double timeoutSeconds = 0;
    bool quiet = false;
    std::string kvmDevice = "/dev/kvm";
    std::vector<std::string> disks;  // FILE[,readonly][,snapshot][,virtio]
    bool snapshot = false;           // every disk copy-on-write (as QEMU's -snapshot)
    std::string kernel, initrd, append;  // direct boot (Linux bzImage or multiboot)
    std::string nic;                     // "" (none), "e1000" or "virtio": a NIC on the process's switch
    bool virtioConsole = false;          // the console on a virtio-console instead of COM1
    std::string pcap;                    // capture file for the switch
    unsigned vms = 1;                    // identical VMs in this process
    bool noReboot = false;               // a guest reset stops the VM
    std::string irqchip = "emulated";    // emulated (VS) or kernel (VH, KVM only)
    std::string pv;                      // offered PV interfaces: console,clock,events | all | none
    std::string idle;                    // "fast", "realtime" or "" (realtime with a network, else fast)
    std::string preset;                  // a row of the brief's spectrum table (hv/presets.hpp)
    // Per-concern overrides (vs, p, vh): privileged, boot, interrupts, devices.
    std::string privileged, boot, interrupts, devices;
};

// Adds the `run` subcommand; `options` receives the parsed options.
CLI::App* addRunCommand(CLI::App& app, RunOptions& options);
// Adds the options of `run` to a subcommand (`run` itself, `gui`).
void addRunOptions(CLI::App& command, RunOptions& options);
int runCommand(const RunOptions& options);

}  // namespace hvlab::frontend
