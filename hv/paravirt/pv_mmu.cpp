#include "hv/paravirt/pv_mmu.hpp"

#include <limits>

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
    frames_.resize(end / kPageSize);
    for (const mmu::Region& r : memory_.regions()) {
        if (r.kind != mmu::RegionKind::Ram) continue;
        // Only whole pages inside one RAM region are guest frames.
        for (uint64_t f = (r.base + kPageSize - 1) / kPageSize; (f + 1) * kPageSize <= r.end(); ++f)
            frames_[f].kind = ownedByHvlab(f * kPageSize) ? Kind::Hvlab : Kind::Guest;
    }
}

PvMmu::Frame* PvMmu::frameAt(uint64_t frameNumber) {
    return frameNumber < frames_.size() ? &frames_[frameNumber] : nullptr;
}

PvMmu::FrameState PvMmu::frame(uint64_t gpa) const {
    const uint64_t f = gpa / kPageSize;
    if (f >= frames_.size()) return {};
    const Frame& fr = frames_[f];
    return {fr.type, fr.typeRefs, fr.pins, fr.writable};
}

bool PvMmu::writableByDevices(uint64_t gpa, uint64_t len) const {
    if (len == 0) return true;
    if (gpa + len < gpa) return false;
    for (uint64_t f = gpa / kPageSize; f <= (gpa + len - 1) / kPageSize && f < frames_.size(); ++f)
        if (frames_[f].kind == Kind::Hvlab || frames_[f].type != PageType::None) return false;
    return true;
}

uint64_t PvMmu::readEntry(uint64_t gpa) const {
    uint64_t value = 0;
    memory_.read(gpa, &value, sizeof value);
    return value;
}

void PvMmu::writeEntry(uint64_t gpa, uint64_t value) { memory_.write(gpa, &value, sizeof value); }

// A table address from the guest: page aligned, a guest frame (not hvlab's, not outside RAM).
int64_t PvMmu::checkTableAddress(uint64_t gpa, Frame*& out) {
    if (gpa % kPageSize) return kErrorInvalid;
    Frame* f = frameAt(gpa / kPageSize);
    if (!f || f->kind == Kind::Other) return kErrorFault;
    if (f->kind == Kind::Hvlab) return kErrorPerm;
    out = f;
    return 0;
}

// Takes a reference of `type` on a frame; the first one makes it a table and validates it.
int64_t PvMmu::getType(uint64_t frameNumber, PageType type) {
    Frame* f = frameAt(frameNumber);
    if (!f || f->kind == Kind::Other) return kErrorFault;
    if (f->kind == Kind::Hvlab) return kErrorPerm;
    if (f->type == type) {
        if (f->typeRefs == std::numeric_limits<uint32_t>::max()) return kErrorBusy;
        ++f->typeRefs;
        return 0;
    }
    if (f->type != PageType::None || f->writable) return kErrorBusy;  // another level, or mapped writable
    // Typed before its entries are validated: an entry that leads back to this frame (a loop,
    // or a writable mapping of a table being validated) sees a table and is refused.
    f->type = type;
    f->typeRefs = 1;
    if (const int64_t r = validateTable(frameNumber, type); r < 0) {
        f->type = PageType::None;
        f->typeRefs = 0;
        return r;
    }
    ++validated_;
    return 0;
}

void PvMmu::putType(uint64_t frameNumber) {
    Frame* f = frameAt(frameNumber);
    if (!f || f->typeRefs == 0) return;
    if (--f->typeRefs) return;
    const PageType type = f->type;
    releaseTable(frameNumber, type);
    f->type = PageType::None;
}

int64_t PvMmu::validateTable(uint64_t frameNumber, PageType type) {
    const uint64_t base = frameNumber * kPageSize;
    const unsigned guestEntries = type == PageType::L4 ? kGuestL4Slots : kEntries;
    if (type == PageType::L4) {
        // hvlab's slots: 256-510 must be empty; 511 is overwritten with the hole.
        for (unsigned i = kGuestL4Slots; i < kHoleL4Slot; ++i)
            if (readEntry(base + 8 * i) & kPresent) return kErrorPerm;
    }
    for (unsigned i = 0; i < guestEntries; ++i) {
        if (const int64_t r = getEntry(type, readEntry(base + 8 * i)); r < 0) {
            for (unsigned j = 0; j < i; ++j) putEntry(type, readEntry(base + 8 * j));
            return r;
        }
    }
    if (type == PageType::L4) writeEntry(base + 8 * kHoleL4Slot, holeL4Entry_);
    return 0;
}

void PvMmu::releaseTable(uint64_t frameNumber, PageType type) {
    const uint64_t base = frameNumber * kPageSize;
    const unsigned guestEntries = type == PageType::L4 ? kGuestL4Slots : kEntries;
    for (unsigned i = 0; i < guestEntries; ++i) putEntry(type, readEntry(base + 8 * i));
    // An ordinary page again: the guest may write it, so hvlab's hole entry goes.
    if (type == PageType::L4) writeEntry(base + 8 * kHoleL4Slot, 0);
}

// Validates one entry of a `level` table and takes the references it implies.
int64_t PvMmu::getEntry(PageType level, uint64_t entry) {
    if (!(entry & kPresent)) return 0;  // a non-present entry may hold anything
    if (entry & kReservedAddressBits) return kErrorInvalid;
    if (level != PageType::L1 && (entry & kLargePage)) return kErrorInvalid;  // PS (or L4's reserved bit 7)
    const uint64_t target = frameOf(entry);
    if (level != PageType::L1) return getType(target, below(level));
    Frame* f = frameAt(target);
    if (!f || f->kind == Kind::Other) return 0;  // a device window (or nothing): no accounting
    if (f->kind == Kind::Hvlab) return kErrorPerm;
    if (entry & kWritable) {
        if (f->type != PageType::None) return kErrorPerm;  // a page table mapped writable
        if (f->writable == std::numeric_limits<uint32_t>::max()) return kErrorBusy;
        ++f->writable;
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
    Frame* f = frameAt(target);
    if (f && f->kind == Kind::Guest && (entry & kWritable) && f->writable) --f->writable;
}

int64_t PvMmu::update(uint64_t entryGpa, uint64_t value) {
    if (entryGpa % 8) return kErrorInvalid;
    Frame* table = nullptr;
    if (const int64_t r = checkTableAddress(entryGpa & ~(kPageSize - 1), table); r < 0) return r;
    if (table->type == PageType::None) return kErrorInvalid;  // not a page table: write it directly
    const PageType level = table->type;
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
    Frame* f = nullptr;
    if (const int64_t r = checkTableAddress(tableGpa, f); r < 0) return r;
    if (f->pins == std::numeric_limits<uint32_t>::max()) return kErrorBusy;
    if (const int64_t r = getType(tableGpa / kPageSize, static_cast<PageType>(level)); r < 0) return r;
    ++f->pins;
    return 0;
}

int64_t PvMmu::unpin(uint64_t tableGpa) {
    Frame* f = nullptr;
    if (const int64_t r = checkTableAddress(tableGpa, f); r < 0) return r;
    if (f->pins == 0) return kErrorInvalid;
    --f->pins;
    putType(tableGpa / kPageSize);
    flushTlb();
    return 0;
}

int64_t PvMmu::setCr3(uint64_t l4Gpa) {
    Frame* f = nullptr;
    if (const int64_t r = checkTableAddress(l4Gpa, f); r < 0) return r;
    if (f->type != PageType::L4 || f->pins == 0) return kErrorInvalid;
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
