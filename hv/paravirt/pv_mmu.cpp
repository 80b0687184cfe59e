#include "hv/paravirt/pv_mmu.hpp"

#include <limits>
#include <tuple>

#include <spdlog/spdlog.h>

#include "cpu/hypercall_abi.hpp"

namespace hvlab::hv {

using namespace cpu::hypercall;
using pv::kGuestL4Slots;
using pv::kHoleL4Slot;

namespace {
constexpr uint64_t kPageSize = 4096;
constexpr unsigned kEntries = 512;
constexpr uint64_t kPresent = 1ull << 0;
constexpr uint64_t kWritable = 1ull << 1;
constexpr uint64_t kLargePage = 1ull << 7;  // PS in levels 2-3, reserved in level 4, PAT in level 1
constexpr uint64_t kFrameMask = 0x000ffffffffff000ull;
// Physical address bits above the 40 the walker implements are reserved (mmu::PagingControls).
constexpr uint64_t kReservedAddressBits = 0x000fff0000000000ull;

uint64_t frameOf(uint64_t entry) { return (entry & kFrameMask) >> 12; }
PageType below(PageType level) { return static_cast<PageType>(static_cast<unsigned>(level) - 1); }
}  // namespace

const char* pageTypeName(PageType type) {
    switch (type) {
        case PageType::None: return "ordinary";
        case PageType::L1: return "L1";
        case PageType::L2: return "L2";
        case PageType::L3: return "L3";
        case PageType::L4: return "L4";
    }
    return "?";
}

PvMmu::PvMmu(mmu::PhysicalMap& memory, uint64_t ownedBase, uint64_t ownedSize, uint64_t holeL4Entry, PvMmuHooks hooks)
    : memory_(memory), ownedBase_(ownedBase), ownedSize_(ownedSize), holeL4Entry_(holeL4Entry), hooks_(std::move(hooks)) {
    uint64_t end = 0;
    for (const mmu::Region& r : memory_.regions())
        if (r.kind == mmu::RegionKind::Ram) end = std::max(end, r.end());
    writable_.resize(end / kPageSize);
}

// Only whole pages inside one RAM region are guest frames.
PvMmu::Kind PvMmu::kindOf(uint64_t frameNumber) const {
    if (frameNumber >= writable_.size()) return Kind::Other;
    const uint64_t gpa = frameNumber * kPageSize;
    if (ownedByHvlab(gpa)) return Kind::Hvlab;
    const mmu::Region* r = memory_.find(gpa);
    return r && r->kind == mmu::RegionKind::Ram && r->end() - gpa >= kPageSize ? Kind::Guest : Kind::Other;
}

PvMmu::Table* PvMmu::tableAt(uint64_t frameNumber) {
    const auto it = tables_.find(frameNumber);
    return it == tables_.end() ? nullptr : &it->second;
}

PageType PvMmu::typeOf(uint64_t frameNumber) const {
    const auto it = tables_.find(frameNumber);
    return it == tables_.end() ? PageType::None : it->second.type;
}

PvMmu::FrameState PvMmu::frame(uint64_t gpa) const {
    const uint64_t f = gpa / kPageSize;
    FrameState state;
    state.writableMappings = writableOf(f);
    if (const auto it = tables_.find(f); it != tables_.end())
        std::tie(state.type, state.typeRefs, state.pins) = std::tie(it->second.type, it->second.typeRefs, it->second.pins);
    return state;
}

bool PvMmu::writableByDevices(uint64_t gpa, uint64_t len) const {
    if (len == 0) return true;
    if (gpa + len < gpa) return false;
    for (uint64_t f = gpa / kPageSize; f <= (gpa + len - 1) / kPageSize && f < writable_.size(); ++f)
        if (ownedByHvlab(f * kPageSize) || tables_.count(f)) return false;
    return true;
}

std::array<uint64_t, kEntries> PvMmu::readTable(uint64_t frameNumber) const {
    std::array<uint64_t, kEntries> entries{};
    memory_.read(frameNumber * kPageSize, entries.data(), sizeof entries);
    return entries;
}

uint64_t PvMmu::readEntry(uint64_t gpa) const {
    uint64_t value = 0;
    memory_.read(gpa, &value, sizeof value);
    return value;
}

void PvMmu::writeEntry(uint64_t gpa, uint64_t value) { memory_.write(gpa, &value, sizeof value); }

// A table address from the guest: page aligned, a guest frame (not hvlab's, not outside RAM).
int64_t PvMmu::checkTableAddress(uint64_t gpa) {
    if (gpa % kPageSize) return kErrorInvalid;
    switch (kindOf(gpa / kPageSize)) {
        case Kind::Other: return kErrorFault;
        case Kind::Hvlab: return kErrorPerm;
        case Kind::Guest: return 0;
    }
    return kErrorFault;
}

// Takes a reference of `type` on a frame; the first one makes it a table and validates it.
int64_t PvMmu::getType(uint64_t frameNumber, PageType type) {
    if (const int64_t r = checkTableAddress(frameNumber * kPageSize); r < 0) return r;
    if (Table* t = tableAt(frameNumber)) {
        if (t->type != type) return kErrorBusy;  // a table of another level
        if (t->typeRefs == std::numeric_limits<uint32_t>::max()) return kErrorBusy;
        ++t->typeRefs;
        return 0;
    }
    if (writableOf(frameNumber)) return kErrorBusy;  // mapped writable
    // Typed before its entries are validated: an entry that leads back to this frame (a loop,
    // or a writable mapping of a table being validated) sees a table and is refused.
    tables_[frameNumber] = Table{type, 1, 0};
    if (const int64_t r = validateTable(frameNumber, type); r < 0) {
        tables_.erase(frameNumber);
        return r;
    }
    ++validated_;
    return 0;
}

void PvMmu::putType(uint64_t frameNumber) {
    Table* t = tableAt(frameNumber);
    if (!t || t->typeRefs == 0) return;
    if (--t->typeRefs) return;
    const PageType type = t->type;
    tables_.erase(frameNumber);  // ordinary now: its entries' references go below
    releaseTable(frameNumber, type);
}

int64_t PvMmu::validateTable(uint64_t frameNumber, PageType type) {
    const std::array<uint64_t, kEntries> entries = readTable(frameNumber);
    const unsigned guestEntries = type == PageType::L4 ? kGuestL4Slots : kEntries;
    if (type == PageType::L4) {
        // hvlab's slots: 256-510 must be empty; 511 is overwritten with the hole.
        for (unsigned i = kGuestL4Slots; i < kHoleL4Slot; ++i)
            if (entries[i] & kPresent) return kErrorPerm;
    }
    for (unsigned i = 0; i < guestEntries; ++i) {
        if (const int64_t r = getEntry(type, entries[i]); r < 0) {
            for (unsigned j = 0; j < i; ++j) putEntry(type, entries[j]);
            return r;
        }
    }
    if (type == PageType::L4) writeEntry(frameNumber * kPageSize + 8 * kHoleL4Slot, holeL4Entry_);
    return 0;
}

void PvMmu::releaseTable(uint64_t frameNumber, PageType type) {
    const std::array<uint64_t, kEntries> entries = readTable(frameNumber);
    const unsigned guestEntries = type == PageType::L4 ? kGuestL4Slots : kEntries;
    for (unsigned i = 0; i < guestEntries; ++i) putEntry(type, entries[i]);
    // An ordinary page again: the guest may write it, so hvlab's hole entry goes.
    if (type == PageType::L4) writeEntry(frameNumber * kPageSize + 8 * kHoleL4Slot, 0);
}

// Validates one entry of a `level` table and takes the references it implies.
int64_t PvMmu::getEntry(PageType level, uint64_t entry) {
    if (!(entry & kPresent)) return 0;  // a non-present entry may hold anything
    if (entry & kReservedAddressBits) return kErrorInvalid;
    if (level != PageType::L1 && (entry & kLargePage)) return kErrorInvalid;  // PS (or L4's reserved bit 7)
    const uint64_t target = frameOf(entry);
    if (level != PageType::L1) return getType(target, below(level));
    switch (kindOf(target)) {
        case Kind::Other: return 0;  // a device window (or nothing): no accounting
        case Kind::Hvlab: return kErrorPerm;
        case Kind::Guest: break;
    }
    if (entry & kWritable) {
        if (tables_.count(target)) return kErrorPerm;  // a page table mapped writable
        if (writable_[target] == std::numeric_limits<uint32_t>::max()) return kErrorBusy;
        ++writable_[target];
    }
    return 0;
}

void PvMmu::putEntry(PageType level, uint64_t entry) {
    if (!(entry & kPresent)) return;
    const uint64_t target = frameOf(entry);
    if (level != PageType::L1) {
        putType(target);
        return;
    }
    if ((entry & kWritable) && kindOf(target) == Kind::Guest && writable_[target]) --writable_[target];
}

int64_t PvMmu::update(uint64_t entryGpa, uint64_t value) {
    if (entryGpa % 8) return kErrorInvalid;
    if (const int64_t r = checkTableAddress(entryGpa & ~(kPageSize - 1)); r < 0) return r;
    const PageType level = typeOf(entryGpa / kPageSize);
    if (level == PageType::None) return kErrorInvalid;  // not a page table: write it directly
    const unsigned index = static_cast<unsigned>((entryGpa % kPageSize) / 8);
    if (level == PageType::L4 && index >= kGuestL4Slots) return kErrorPerm;
    const uint64_t old = readEntry(entryGpa);
    // The new entry's references first, so replacing an entry by one to the same table keeps it.
    if (const int64_t r = getEntry(level, value); r < 0) return r;
    writeEntry(entryGpa, value);
    putEntry(level, old);
    ++updates_;
    return 0;
}

int64_t PvMmu::updateList(uint64_t list, uint64_t count) {
    int64_t result = 0;
    for (uint64_t k = 0; k < count; ++k) {
        uint64_t pair[2];
        if (list + 16 * k < list || !memory_.read(list + 16 * k, pair, sizeof pair)) {
            result = kErrorFault;
            break;
        }
        if (const int64_t r = update(pair[0], pair[1]); r < 0) {
            spdlog::debug("pv mmu: update {} of {} ({:#x} <- {:#x}) refused: {}", k, count, pair[0], pair[1], r);
            result = r;
            break;
        }
        ++result;
    }
    // Stale translations must not outlive the entries they came from (a writable mapping of a
    // page that may now become a table, above all).
    flushTlb();
    return result;
}

int64_t PvMmu::pin(uint64_t level, uint64_t tableGpa) {
    if (level < 1 || level > 4) return kErrorInvalid;
    if (const int64_t r = checkTableAddress(tableGpa); r < 0) return r;
    if (const Table* t = tableAt(tableGpa / kPageSize); t && t->pins == std::numeric_limits<uint32_t>::max())
        return kErrorBusy;
    if (const int64_t r = getType(tableGpa / kPageSize, static_cast<PageType>(level)); r < 0) return r;
    ++tableAt(tableGpa / kPageSize)->pins;
    return 0;
}

int64_t PvMmu::unpin(uint64_t tableGpa) {
    if (const int64_t r = checkTableAddress(tableGpa); r < 0) return r;
    Table* t = tableAt(tableGpa / kPageSize);
    if (!t || t->pins == 0) return kErrorInvalid;
    --t->pins;
    putType(tableGpa / kPageSize);
    flushTlb();
    return 0;
}

int64_t PvMmu::setCr3(uint64_t l4Gpa) {
    if (const int64_t r = checkTableAddress(l4Gpa); r < 0) return r;
    const Table* t = tableAt(l4Gpa / kPageSize);
    if (!t || t->type != PageType::L4 || t->pins == 0) return kErrorInvalid;
    // The loaded L4 holds a reference of its own, so unpinning it while it is in use is safe.
    if (const int64_t r = getType(l4Gpa / kPageSize, PageType::L4); r < 0) return r;
    if (cr3_) putType(*cr3_ / kPageSize);
    cr3_ = l4Gpa;
    if (hooks_.loadCr3) hooks_.loadCr3(l4Gpa);
    return 0;
}

int64_t PvMmu::invlpg(uint64_t linear) {
    if (linear == ~0ull) {
        flushTlb();
    } else if (hooks_.invalidatePage) {
        hooks_.invalidatePage(linear);
    }
    return 0;
}

}  // namespace hvlab::hv
