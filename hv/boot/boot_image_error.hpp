// The error every direct-boot loader throws for a kernel, initrd or module it cannot boot.
#pragma once

#include <stdexcept>

namespace hvlab::hv::boot {

// The image is not bootable as given: the message says what is wrong and where, in one line
// (file name, offset or guest address, the value found and the value expected).
class BootImageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace hvlab::hv::boot
