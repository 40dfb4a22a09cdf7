// cvlab loop-back probe: samples a CV with the ADC, stamps threshold crossings with the
// microsecond clock and reports them over USB serial. Protocol: DESIGN.md, "Hardware loop-back".
//
//   host -> probe  PING <seq>            probe -> host  PONG <seq> <rx_us> <tx_us>
//   host -> probe  ARM <channel> <mV>    probe -> host  OK ARM
//                                        probe -> host  EDGE <channel> <rise|fall> <probe_us> <mV>
//   host -> probe  HELLO? (or empty)     probe -> host  HELLO cvlab-probe <fw_version> <adc_bits> <uart|usb>
//
// Protocol 1.1: rx_us is stamped when the PING's last byte is read, tx_us right before the
// PONG's first byte is written; the host takes the difference (the probe's own delay) out of
// the round trip. The link word tells the host whether each line also spends bytes x 10 / baud
// on a UART (a board behind a USB bridge) or not (native USB).
//
// Boards: Teensy 4.x (recommended: 600 MHz, USB high speed, 12-bit ADC at ~1 µs/sample),
// any Arduino-class board with a USB serial port (slower ADC and full-speed USB; see README).

#define FIRMWARE_VERSION "1.1.0"

// Native-USB boards (the Serial object is the USB device itself) have no UART between the
// sketch and the host; boards with a USB-UART bridge (Uno, Nano, CH340/FTDI clones) do.
#if defined(__IMXRT1062__) || defined(__MK20DX256__) || defined(__MK64FX512__) || defined(__MK66FX1M0__) || \
    defined(ARDUINO_ARCH_RP2040) || defined(ARDUINO_ARCH_SAMD) || defined(__AVR_ATmega32U4__) || defined(USBCON)
#define PROBE_LINK "usb"
#else
#define PROBE_LINK "uart"
#endif

#if defined(__IMXRT1062__)
const int ADC_BITS = 12;
const float ADC_REFERENCE_MV = 3300.0;
#else
const int ADC_BITS = 10;
const float ADC_REFERENCE_MV = 5000.0;  // set to 3300.0 on 3.3 V boards
#endif

// Input network (README): CV -> divider -> ADC pin. These undo it so mV are CV millivolts.
// 0..1 V input, no divider: GAIN = 1, OFFSET_MV = 0.
// ±1 V input, 10k/10k to a 1.65 V reference: ADC = CV/2 + 1650 -> GAIN = 2, OFFSET_MV = 1650.
const float INPUT_GAIN = 1.0;
const float INPUT_OFFSET_MV = 0.0;
const int HYSTERESIS_MV = 20;
const int CHANNEL_PINS[] = {A0, A1};
const int CHANNELS = sizeof(CHANNEL_PINS) / sizeof(CHANNEL_PINS[0]);

static bool armed = false;
static int armedChannel = 0;
static int thresholdMv = 500;
static bool levelHigh = false;
// How far ahead of "now" a PONG's tx_us is set, µs: the time formatting the line takes (64-bit
// decimal formatting is slow on an 8-bit AVR); grows if a PONG ever misses it.
static uint32_t formatAheadUs = 40;

// micros() wraps every 71.6 minutes; widen it to 64 bits so stamps never go backwards.
static uint32_t lastMicros = 0;
static uint64_t microsHigh = 0;
uint64_t micros64() {
  uint32_t now = micros();
  if (now < lastMicros) microsHigh += (1ULL << 32);
  lastMicros = now;
  return microsHigh | now;
}

int readMillivolts(int channel) {
  int raw = analogRead(CHANNEL_PINS[channel]);
  float adcMv = raw * ADC_REFERENCE_MV / ((1 << ADC_BITS) - 1);
  return (int)((adcMv - INPUT_OFFSET_MV) * INPUT_GAIN);
}

// Writes value in decimal into out (at least 21 chars), NUL-terminated.
void formatU64(uint64_t value, char *out) {
  char digits[21];
  int position = 20;
  digits[position] = '\0';
  do {
    digits[--position] = '0' + (value % 10);
    value /= 10;
  } while (value > 0);
  strcpy(out, &digits[position]);
}

void printU64(uint64_t value) {
  char digits[21];
  formatU64(value, digits);
  Serial.print(digits);
}

void sendHello() {
  Serial.print("HELLO cvlab-probe " FIRMWARE_VERSION " ");
  Serial.print(ADC_BITS);
  Serial.print(" " PROBE_LINK "\n");
}

// Lines longer than this are dropped whole, as the host does.
const int LINE_MAX = 120;
static char line[LINE_MAX + 1];
static int lineLength = 0;
static bool lineOverflow = false;

void handleLine(uint64_t stampUs) {
  line[lineLength] = '\0';
  if (lineLength == 0 || strcmp(line, "HELLO?") == 0) {
    sendHello();
  } else if (strncmp(line, "PING ", 5) == 0) {
    unsigned long seq = strtoul(line + 5, NULL, 10);
    // tx_us must be written inside the line it stamps, so it is chosen a little ahead (the time
    // formatting takes, learnt from the last PONG), the line formatted, and the first byte held
    // until that instant. Serial.flush() first: an EDGE line may still be in the transmit
    // buffer, and tx_us means the PONG's first byte starts on an idle wire.
    Serial.flush();
    uint64_t formatStart = micros64();
    uint64_t txUs = formatStart + formatAheadUs;
    char reply[64];
    char rx[21];
    char tx[21];
    formatU64(stampUs, rx);
    formatU64(txUs, tx);
    snprintf(reply, sizeof(reply), "PONG %lu %s %s\n", seq, rx, tx);
    uint64_t formatted = micros64();
    if (formatted > txUs) formatAheadUs = (uint32_t)(formatted - formatStart) + 8;  // late: aim further ahead next time
    while (micros64() < txUs) {
    }
    Serial.write(reply, strlen(reply));
  } else if (strncmp(line, "ARM ", 4) == 0) {
    char *rest = NULL;
    long channel = strtol(line + 4, &rest, 10);
    if (rest != NULL && *rest == ' ' && channel >= 0 && channel < CHANNELS) {
      armedChannel = (int)channel;
      thresholdMv = (int)strtol(rest + 1, NULL, 10);
      levelHigh = readMillivolts(armedChannel) >= thresholdMv;
      armed = true;
      Serial.print("OK ARM\n");
    }
  }
  // anything else is ignored: noise must never stop the probe
}

void readSerial() {
  while (Serial.available() > 0) {
    int c = Serial.read();
    // PONG is stamped when the line's last byte is read, the nearest the probe gets to "now".
    uint64_t stampUs = micros64();
    if (c == '\r') continue;
    if (c == '\n') {
      if (!lineOverflow) handleLine(stampUs);
      lineLength = 0;
      lineOverflow = false;
    } else if (lineLength < LINE_MAX) {
      line[lineLength++] = (char)c;
    } else {
      lineOverflow = true;
    }
  }
}

void setup() {
  Serial.begin(115200);  // ignored by native USB boards, used by USB-UART bridges
#if defined(__IMXRT1062__)
  analogReadResolution(12);
  analogReadAveraging(1);  // averaging would smear the edge in time
#endif
  sendHello();
}

void loop() {
  if (armed) {
    // Stamp before the conversion: the sample describes the CV at the start of the read.
    uint64_t stampUs = micros64();
    int mv = readMillivolts(armedChannel);
    if (!levelHigh && mv >= thresholdMv + HYSTERESIS_MV) {
      levelHigh = true;
      Serial.print("EDGE "); Serial.print(armedChannel); Serial.print(" rise "); printU64(stampUs); Serial.print(" "); Serial.print(mv); Serial.print("\n");
    } else if (levelHigh && mv <= thresholdMv - HYSTERESIS_MV) {
      levelHigh = false;
      Serial.print("EDGE "); Serial.print(armedChannel); Serial.print(" fall "); printU64(stampUs); Serial.print(" "); Serial.print(mv); Serial.print("\n");
    }
  }
  readSerial();
}
