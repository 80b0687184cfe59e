#include "devices/fw_cfg.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace hvlab::devices {

using namespace fw_cfg;

namespace {

constexpr uint16_t kLastFileSelector = 0x3FFF;

void putLe(std::vector<uint8_t>& out, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void putBe(std::vector<uint8_t>& out, uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

const std::vector<uint8_t> kEmpty;

}  // namespace

FwCfg::FwCfg() {
    items_[kSignature] = {'Q', 'E', 'M', 'U'};
    std::vector<uint8_t> id;
    putLe(id, kIdTraditional, 4);
    items_[kId] = std::move(id);
    rebuildFileDir();
}

uint32_t FwCfg::ioRead(uint16_t port, unsigned size) {
    const uint32_t lanes = size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    if (port != kDataPort) return lanes;  // the selector is write-only
    uint8_t byte = 0;
    const std::vector<uint8_t>& data = item(selector_);
    if (offset_ < data.size()) byte = data[offset_++];
    return (lanes & ~0xFFu) | byte;
}

void FwCfg::ioWrite(uint16_t port, unsigned /*size*/, uint32_t value) {
    if (port != kSelectorPort) return;  // the data port is read-only
    selector_ = static_cast<uint16_t>(value & ~kWriteChannel);
    offset_ = 0;
}

const std::vector<uint8_t>& FwCfg::item(uint16_t key) const {
    auto it = items_.find(static_cast<uint16_t>(key & ~kWriteChannel));
    return it == items_.end() ? kEmpty : it->second;
}

void FwCfg::setItem(uint16_t key, std::vector<uint8_t> data) {
    key &= static_cast<uint16_t>(~kWriteChannel);
    if (key == kFileDir) throw std::invalid_argument("fw_cfg: the file directory is generated from addFile()");
    if (std::any_of(files_.begin(), files_.end(), [key](const File& f) { return f.select == key; }))
        throw std::invalid_argument(fmt::format("fw_cfg: selector {:#x} belongs to a file", key));
    items_[key] = std::move(data);
}

uint16_t FwCfg::addFile(std::string name, std::vector<uint8_t> data) {
    if (name.empty() || name.size() >= kFileNameSize)
        throw std::invalid_argument(fmt::format("fw_cfg: file name '{}' must have 1 to {} bytes", name, kFileNameSize - 1));
    for (const File& f : files_) {
        if (f.name == name) {
            items_[f.select] = std::move(data);
            rebuildFileDir();  // the size may have changed
            return f.select;
        }
    }
    const auto select = static_cast<uint16_t>(kFileFirst + files_.size());
    if (select > kLastFileSelector) throw std::invalid_argument("fw_cfg: no file selectors left");
    files_.push_back({std::move(name), select});
    items_[select] = std::move(data);
    rebuildFileDir();
    return select;
}

void FwCfg::rebuildFileDir() {
    std::vector<uint8_t> dir;
    dir.reserve(4 + files_.size() * kFileEntrySize);
    putBe(dir, files_.size(), 4);
    for (const File& f : files_) {
        putBe(dir, items_[f.select].size(), 4);
        putBe(dir, f.select, 2);
        putBe(dir, 0, 2);  // reserved
        const size_t nameStart = dir.size();
        dir.insert(dir.end(), f.name.begin(), f.name.end());
        dir.resize(nameStart + kFileNameSize, 0);  // NUL-padded
    }
    items_[kFileDir] = std::move(dir);
}

void FwCfg::setRamSize(uint64_t bytes) {
    std::vector<uint8_t> v;
    putLe(v, bytes, 8);
    items_[kRamSize] = std::move(v);
}

void FwCfg::setCpuCount(uint16_t count) {
    std::vector<uint8_t> v;
    putLe(v, count, 2);
    items_[kNbCpus] = v;
    items_[kMaxCpus] = std::move(v);
}

void FwCfg::setE820(const std::vector<E820Entry>& entries) {
    std::vector<uint8_t> table;
    table.reserve(entries.size() * kE820EntrySize);
    for (const E820Entry& e : entries) {
        putLe(table, e.address, 8);
        putLe(table, e.length, 8);
        putLe(table, e.type, 4);
    }
    addFile("etc/e820", std::move(table));
}

}  // namespace hvlab::devices
