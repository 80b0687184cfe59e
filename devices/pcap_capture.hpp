// A capture file of Ethernet frames in the classic pcap format (LINKTYPE_ETHERNET, snap length
// 65535), written through libpcap so Wireshark and tcpdump read it. Every frame is flushed at
// once, so the file is complete even if the program dies.
//
// Timestamps come from a clock function the owner supplies (nanoseconds since the Unix epoch),
// so a run on virtual time gives the same file every time; the default is the host's wall clock.
// Thread-safe: frames from NICs of different VMs may arrive on different threads.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>

struct pcap;
struct pcap_dumper;

namespace hvlab::devices {

class PcapCapture {
public:
    using ClockFn = std::function<uint64_t()>;  // nanoseconds since 1970-01-01 UTC
    static constexpr int kSnapLength = 65535;

    // Creates (truncates) `path`. Throws std::runtime_error with libpcap's reason if it cannot.
    explicit PcapCapture(const std::string& path, ClockFn clock = {});
    ~PcapCapture();
    PcapCapture(const PcapCapture&) = delete;
    PcapCapture& operator=(const PcapCapture&) = delete;

    // Appends one frame (without FCS); frames longer than the snap length are truncated.
    void write(std::span<const uint8_t> frame);

    uint64_t framesWritten() const;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    ClockFn clock_;
    mutable std::mutex mutex_;
    pcap* handle_ = nullptr;
    pcap_dumper* dumper_ = nullptr;
    uint64_t frames_ = 0;
};

}  // namespace hvlab::devices
