/** Loop-back: the hardware latency probe. Its controls arrive with the loop-back work. */
export function LoopbackPage(): React.JSX.Element {
  return (
    <div className="page page-placeholder">
      <h2>Loop-back</h2>
      <p className="lead">
        Measures the true hardware latency: OSC out → converter → CV → probe → serial back. Pick the probe&apos;s serial port, connect, calibrate the clock, run the square
        wave, and read the scope trace with its edges and the latency histogram here.
      </p>
      <p className="dim">
        This console does not drive the probe yet. From a terminal: <code>cvlab probe-emulator</code> plays converter and probe in software.
      </p>
    </div>
  );
}
