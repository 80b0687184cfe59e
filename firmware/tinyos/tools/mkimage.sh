#!/bin/sh
# mkimage.sh - assemble the boot code and lay out tinyos.img.
#
#   mkimage.sh NASM BOOT_DIR KERNEL_BIN OUT_IMG LISTING_DIR
#
# Disk layout (512-byte sectors):
#   LBA 0           boot sector (boot/boot_sector.asm)
#   LBA 1..8        stage2 (boot/stage2.asm, exactly 4 KiB)
#   LBA 9..         kernel.bin (kernel + embedded user programs)
#   LBA 2048..      data area for the shell's `disk` commands (to the end of the 8 MiB image)
# Both boot stages are assembled here because they need the kernel's size in sectors.
set -eu
nasm=$1 boot_dir=$2 kernel=$3 out=$4 listings=$5

image_sectors=16384        # 8 MiB
data_lba=2048              # must match DISK_DATA_AREA_LBA in kernel/layout.h
kernel_bytes=$(wc -c <"$kernel")
kernel_sectors=$(( (kernel_bytes + 511) / 512 ))
if [ $(( 9 + kernel_sectors )) -gt $data_lba ]; then
  echo "mkimage.sh: kernel ($kernel_sectors sectors) overlaps the data area" >&2
  exit 1
fi

tmp=$out.tmp
mkdir -p "$listings"
"$nasm" -f bin -Werror -I "$boot_dir/" -DKERNEL_SECTORS=$kernel_sectors \
    -l "$listings/boot_sector.lst" -o "$tmp.boot" "$boot_dir/boot_sector.asm"
"$nasm" -f bin -Werror -I "$boot_dir/" -DKERNEL_SECTORS=$kernel_sectors \
    -l "$listings/stage2.lst" -o "$tmp.stage2" "$boot_dir/stage2.asm"
[ "$(wc -c <"$tmp.boot")" -eq 512 ] || { echo "mkimage.sh: boot sector is not 512 bytes" >&2; exit 1; }
[ "$(wc -c <"$tmp.stage2")" -eq 4096 ] || { echo "mkimage.sh: stage2 is not 4096 bytes" >&2; exit 1; }

rm -f "$tmp"
dd if=/dev/zero of="$tmp" bs=512 count=$image_sectors status=none
dd if="$tmp.boot" of="$tmp" conv=notrunc status=none
dd if="$tmp.stage2" of="$tmp" bs=512 seek=1 conv=notrunc status=none
dd if="$kernel" of="$tmp" bs=512 seek=9 conv=notrunc status=none
rm -f "$tmp.boot" "$tmp.stage2"
mv "$tmp" "$out"
echo "tinyos.img: kernel $kernel_bytes bytes at LBA 9..$(( 8 + kernel_sectors )), data area LBA $data_lba..$(( image_sectors - 1 ))"
