/**
 * What each timed stage covers, in the words the console shows beside the figures (legend
 * tooltips, stage tables, the glossary on the Run page).
 */
export const STAGE_GLOSSARY: Readonly<Record<string, string>> = {
  validate: 'Parsing the chat text and checking each assignment against the rig (grammar, names, ranges).',
  limit: 'The rate limiter: per-viewer token bucket, global cap across instances, per-variable cooldown.',
  store: 'Writing the new value, its version and writer to the state store (Redis, or memory without one).',
  encode: 'Scaling each value to the converter’s range and encoding the OSC message or bundle.',
  send: 'Handing the OSC datagram to the operating system (UDP send).',
  e2e: 'End to end: from the moment the message was due (its scheduled time, so queueing counts) until its datagram was handed to the kernel.',
  tap: 'From the moment the message was due until cvlab’s own OSC tap received the datagram on the wire. It includes the kernel’s delivery and the wait for the tap to read it, so tap is usually a little above e2e.',
  slip: 'How late the load generator started a message compared with its planned time; above the tolerance it counts as late.',
  propagation:
    'Multi-instance runs: from one instance’s state write until another instance heard of it over Redis pub/sub.',
  fanout: 'Fan-out: from an accepted change until a WebSocket subscriber (overlay, dashboard) received it.',
  cv: 'Chat → CV: from the moment a probe viewer’s message was due until the CV on the rack crossed the probe’s threshold, timed on the probe and mapped to the host’s clock (± the clock fit’s bound).',
  chatToCv: 'Black box: from the probe viewer’s chat line written to the bot until the CV edge.',
  oscToCv: 'From the datagram (cvlab’s own, or the bot’s as caught) until the CV edge: the converter and the network between.',
  chatToOsc:
    'Black box: from the moment the chat message was due until your bot’s OSC datagram for it arrived at cvlab’s catcher.',
  botReply: 'Black box: from the moment the chat message was due until your bot’s chat reply to it arrived.',
};

/** The glossary entry of a stage name as the tables and legends spell it (`fan-out`, `fanout`). */
export function stageHelp(stage: string): string | undefined {
  return STAGE_GLOSSARY[stage.replace('-', '')];
}

/** The lab's other words, explained where they appear (a dotted underline and a tooltip). */
export const TERM_GLOSSARY = {
  due: 'The moment a message was planned to be sent. Latency counts from here, so a message that waited in a queue counts its wait.',
  'due → kernel': 'From the moment the message was due until its OSC datagram was handed to the operating system (the e2e stage).',
  slip: 'How late the load generator started a message compared with its planned time.',
  late: 'Messages whose slip was above the tolerance: the generator could not keep up, so the machine, not the pipeline, set their latency.',
  tap: 'cvlab’s own UDP listener on the OSC port: it times each datagram as it arrives on the wire.',
  'limiter fallbacks':
    'Messages the in-process rate limiter decided because Redis did not answer in time (limits then hold per process, not across instances).',
  'user/variable skew':
    'How unevenly the load spreads: a few viewers send most messages, a few variables get most assignments (1 = even).',
  executor: 'How the load arrives: constant-arrival-rate, ramping-arrival-rate (stages), virtual-users (each viewer thinks between messages), burst, replay (a recorded chat log).',
  'abort grace': 'How long a breaking threshold is tolerated before an abort-on-fail run stops.',
  'Mann-Whitney':
    'Mann-Whitney U: a rank test of whether one run’s per-interval figures tend to be higher than the other’s. It needs no bell curve and a few outliers do not sway it.',
  p: 'The p-value: how likely a difference at least this large would be if both runs were alike. Below α it counts as significant.',
  "Cliff's δ":
    'Cliff’s delta: how often an interval of this run is slower than one of the other, minus the reverse (−1 … +1; 0 = no tendency; beyond ±0.15 it counts).',
  'fit residual':
    'How far the PING/PONG exchanges sit from the fitted clock line: the uncertainty every probe-timed figure carries.',
  drift: 'How fast the probe’s clock runs against the host’s, in parts per million (1 ppm = 1 µs a second).',
  'clock offset': 'Where the probe’s clock stands against the host’s: added to a probe time it gives the host’s time of the same moment.',
  'min round trip': 'The quickest PING → PONG over the serial link: the floor of the link’s delay; exchanges near it are the ones the fit trusts.',
  'samples kept': 'PING exchanges the fit used of those made: the quickest ones, whose round trips the link did not stretch.',
  'typical interval': 'The median over the run’s 100 ms intervals of the figure: what an ordinary moment of the run looked like.',
  'whole run': 'The figure over every message of the run merged into one histogram: a few slow intervals can hold its slowest messages.',
} as const satisfies Readonly<Record<string, string>>;

export type Term = keyof typeof TERM_GLOSSARY;
