#!/usr/bin/env bash
# Builds the loop-back probe's firmware to a .hex for each AVR board Debian's Arduino core
# (packages gcc-avr, avr-libc, arduino-core-avr) can build, the way the Arduino IDE does:
# the core and the sketch compiled with the core's own flags (platform.txt), linked, sized
# against the board's flash and RAM. A change to the sketch that breaks any of them fails CI.
#
#   scripts/build-firmware.sh [output folder]     (default: a temporary folder, removed after)
#
# Teensy, RP2040 and SAMD boards need their vendors' cores, which Debian does not package.
set -euo pipefail
cd "$(dirname "$0")/.."

core_root=/usr/share/arduino/hardware/arduino/avr
sketch=resources/firmware/loopback-probe/loopback-probe.ino
# The Arduino IDE version the core is released with (the IDE defines ARDUINO=<this>).
arduino_version=10819

for tool in avr-gcc avr-g++ avr-gcc-ar avr-objcopy avr-size; do
  command -v "$tool" >/dev/null || { echo "build-firmware: $tool is missing (apt-get install gcc-avr avr-libc)"; exit 1; }
done
[ -f "$core_root/boards.txt" ] || { echo "build-firmware: no Arduino AVR core at $core_root (apt-get install arduino-core-avr)"; exit 1; }

if [ $# -ge 1 ]; then
  out_root="$1"
  mkdir -p "$out_root"
else
  out_root="$(mktemp -d)"
  trap 'rm -rf "$out_root"' EXIT
fi

# board id, the menu entry that chooses its chip (empty: none), the README's name for it
boards=(
  "uno||Arduino Uno (ATmega328P)"
  "nano|atmega328|Arduino Nano (ATmega328P)"
  "mega|atmega2560|Arduino Mega 2560 (ATmega2560)"
  "leonardo||Arduino Leonardo (ATmega32U4)"
  "micro||Arduino Micro (ATmega32U4)"
)

# A board's setting from boards.txt: the chip menu's value first, then the board's own.
setting() {
  local board="$1" cpu="$2" key="$3" value=""
  [ -n "$cpu" ] && value="$(sed -n "s/^$board\.menu\.cpu\.$cpu\.$key=//p" "$core_root/boards.txt" | head -1)"
  [ -n "$value" ] || value="$(sed -n "s/^$board\.$key=//p" "$core_root/boards.txt" | head -1)"
  printf '%s' "$value"
}

# The core's flags (platform.txt), warnings on. GCC 5's <float.h> defines DECIMAL_DIG for C99
# only, not for C++11 as later GCCs do, and the core's WString.cpp needs it: give it GCC's own
# value, which is what <float.h> defines from GCC 6 on.
c_flags=(-c -g -Os -w -std=gnu11 -ffunction-sections -fdata-sections -flto -fno-fat-lto-objects)
cpp_flags=(-c -g -Os -std=gnu++11 -fpermissive -fno-exceptions -ffunction-sections -fdata-sections
  -fno-threadsafe-statics -Wno-error=narrowing -flto -DDECIMAL_DIG=__DECIMAL_DIG__)
assembler_flags=(-c -g -x assembler-with-cpp -flto)
link_flags=(-Os -g -flto -fuse-linker-plugin -Wl,--gc-sections)

# Compiles the core and the sketch for one board, links and makes the .hex; stops at the first error.
compile_board() {
  local build="$1" mcu="$2"
  shift 2
  local defines=("$@")
  for source in "$core_root"/cores/arduino/*.c; do
    avr-gcc "${c_flags[@]}" "${defines[@]}" "$source" -o "$build/core/$(basename "$source").o" || return 1
  done
  for source in "$core_root"/cores/arduino/*.cpp; do
    avr-g++ "${cpp_flags[@]}" -w "${defines[@]}" "$source" -o "$build/core/$(basename "$source").o" || return 1
  done
  for source in "$core_root"/cores/arduino/*.S; do
    avr-gcc "${assembler_flags[@]}" "${defines[@]}" "$source" -o "$build/core/$(basename "$source").o" || return 1
  done
  avr-gcc-ar rcs "$build/core.a" "$build"/core/*.o || return 1
  # What the IDE makes of a sketch: Arduino.h first, line numbers of the .ino kept.
  { echo '#include <Arduino.h>'; echo "#line 1 \"$sketch\""; cat "$sketch"; } >"$build/loopback-probe.cpp" || return 1
  # The sketch itself is held to no warnings.
  avr-g++ "${cpp_flags[@]}" -Wall -Wextra -Werror "${defines[@]}" "$build/loopback-probe.cpp" -o "$build/loopback-probe.o" || return 1
  avr-gcc "${link_flags[@]}" -mmcu="$mcu" -o "$build/loopback-probe.elf" "$build/loopback-probe.o" "$build/core.a" -lm || return 1
  avr-objcopy -O ihex -R .eeprom "$build/loopback-probe.elf" "$build/loopback-probe.hex" || return 1
}

failed=0
for entry in "${boards[@]}"; do
  IFS='|' read -r board cpu label <<<"$entry"
  mcu="$(setting "$board" "$cpu" build.mcu)"
  variant="$(setting "$board" "$cpu" build.variant)"
  board_macro="$(setting "$board" "$cpu" build.board)"
  f_cpu="$(setting "$board" "$cpu" build.f_cpu)"
  max_flash="$(setting "$board" "$cpu" upload.maximum_size)"
  max_ram="$(setting "$board" "$cpu" upload.maximum_data_size)"
  defines=(-mmcu="$mcu" -DF_CPU="$f_cpu" -DARDUINO="$arduino_version" -DARDUINO_"$board_macro" -DARDUINO_ARCH_AVR
    -I"$core_root/cores/arduino" -I"$core_root/variants/$variant")
  vid="$(setting "$board" "$cpu" build.vid)"
  if [ -n "$vid" ]; then
    # Native-USB boards: the core's USB descriptors (platform.txt's build.usb_flags).
    product="$(setting "$board" "$cpu" build.usb_product)"
    defines+=(-DUSB_VID="$vid" -DUSB_PID="$(setting "$board" "$cpu" build.pid)" '-DUSB_MANUFACTURER="Unknown"' "-DUSB_PRODUCT=$product")
  fi
  build="$out_root/$board"
  rm -rf "$build"
  mkdir -p "$build/core"
  log="$build/build.log"
  if ! compile_board "$build" "$mcu" "${defines[@]}" >"$log" 2>&1; then
    echo "build-firmware: $label FAILED:"
    sed 's/^/  /' "$log" | tail -30
    failed=1
    continue
  fi
  read -r text data bss _ < <(avr-size "$build/loopback-probe.elf" | tail -1)
  flash=$((text + data))
  ram=$((data + bss))
  verdict=ok
  if [ "$flash" -gt "$max_flash" ] || [ "$ram" -gt "$max_ram" ]; then
    verdict="TOO BIG"
    failed=1
  fi
  printf 'build-firmware: %-32s %s: flash %6d of %6d bytes, RAM %5d of %5d bytes (%s)\n' \
    "$label" "$verdict" "$flash" "$max_flash" "$ram" "$max_ram" "$build/loopback-probe.hex"
done
exit "$failed"
