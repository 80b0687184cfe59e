#include "devices/pcap_capture.hpp"

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

}  // namespace

PcapCapture::PcapCapture(const std::string& path, ClockFn clock)
    : path_(path), clock_(clock ? std::move(clock) : ClockFn(wallClockNs)) {
    handle_ = pcap_open_dead(DLT_EN10MB, kSnapLength);
    if (!handle_) throw std::runtime_error("pcap capture: libpcap could not create a capture handle");
    dumper_ = pcap_dump_open(handle_, path.c_str());
    if (!dumper_) {
        std::string reason = pcap_geterr(handle_);
        pcap_close(handle_);
        throw std::runtime_error("pcap capture: cannot create '" + path + "': " + reason);
    }
}

PcapCapture::~PcapCapture() {
    pcap_dump_close(dumper_);
    pcap_close(handle_);
}

void PcapCapture::write(std::span<const uint8_t> frame) {
    const uint64_t ns = clock_();
    pcap_pkthdr header{};
    header.ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000u);
    header.ts.tv_usec = static_cast<suseconds_t>(ns % 1'000'000'000u / 1000u);
    header.len = static_cast<bpf_u_int32>(frame.size());
    header.caplen = static_cast<bpf_u_int32>(std::min<size_t>(frame.size(), kSnapLength));
    std::lock_guard lock(mutex_);
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, frame.data());
    pcap_dump_flush(dumper_);
    ++frames_;
}

uint64_t PcapCapture::framesWritten() const {
    std::lock_guard lock(mutex_);
    return frames_;
}

}  // namespace hvlab::devices
