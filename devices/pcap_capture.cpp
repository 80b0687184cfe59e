#include "devices/pcap_capture.hpp"

#include <dlfcn.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace hvlab::devices {

namespace {

uint64_t wallClockNs() {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

// libpcap is loaded when the first capture opens, not linked: it pulls in D-Bus, systemd and
// libgcrypt, about 1.5 MiB of resident memory every run would pay even without a capture.
struct Libpcap {
    decltype(&pcap_open_dead) openDead;
    decltype(&pcap_dump_open) dumpOpen;
    decltype(&pcap_geterr) geterr;
    decltype(&pcap_close) close;
    decltype(&pcap_dump_close) dumpClose;
    decltype(&pcap_dump) dump;
    decltype(&pcap_dump_flush) dumpFlush;
};

template <typename Fn>
void bind(void* library, const char* name, Fn& fn) {
    fn = reinterpret_cast<Fn>(dlsym(library, name));
    if (!fn) throw std::runtime_error(std::string("pcap capture: libpcap has no ") + name);
}

const Libpcap& libpcap() {
    static const Libpcap lib = [] {
        void* handle = dlopen("libpcap.so.0.8", RTLD_NOW | RTLD_LOCAL);
        if (!handle) handle = dlopen("libpcap.so", RTLD_NOW | RTLD_LOCAL);
        if (!handle)
            throw std::runtime_error(std::string("pcap capture: cannot load libpcap (install libpcap0.8): ") + dlerror());
        Libpcap l{};
        bind(handle, "pcap_open_dead", l.openDead);
        bind(handle, "pcap_dump_open", l.dumpOpen);
        bind(handle, "pcap_geterr", l.geterr);
        bind(handle, "pcap_close", l.close);
        bind(handle, "pcap_dump_close", l.dumpClose);
        bind(handle, "pcap_dump", l.dump);
        bind(handle, "pcap_dump_flush", l.dumpFlush);
        return l;
    }();
    return lib;
}

}  // namespace

PcapCapture::PcapCapture(const std::string& path, ClockFn clock)
    : path_(path), clock_(clock ? std::move(clock) : ClockFn(wallClockNs)) {
    const Libpcap& pcap = libpcap();
    handle_ = pcap.openDead(DLT_EN10MB, kSnapLength);
    if (!handle_) throw std::runtime_error("pcap capture: libpcap could not create a capture handle");
    dumper_ = pcap.dumpOpen(handle_, path.c_str());
    if (!dumper_) {
        std::string reason = pcap.geterr(handle_);
        pcap.close(handle_);
        throw std::runtime_error("pcap capture: cannot create '" + path + "': " + reason);
    }
}

PcapCapture::~PcapCapture() {
    libpcap().dumpClose(dumper_);
    libpcap().close(handle_);
}

void PcapCapture::write(std::span<const uint8_t> frame) {
    const uint64_t ns = clock_();
    pcap_pkthdr header{};
    header.ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000u);
    header.ts.tv_usec = static_cast<suseconds_t>(ns % 1'000'000'000u / 1000u);
    header.len = static_cast<bpf_u_int32>(frame.size());
    header.caplen = static_cast<bpf_u_int32>(std::min<size_t>(frame.size(), kSnapLength));
    std::lock_guard lock(mutex_);
    libpcap().dump(reinterpret_cast<u_char*>(dumper_), &header, frame.data());
    libpcap().dumpFlush(dumper_);
    ++frames_;
}

uint64_t PcapCapture::framesWritten() const {
    std::lock_guard lock(mutex_);
    return frames_;
}

}  // namespace hvlab::devices
