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
  chatToOsc:
    'Black box: from the moment the chat message was due until your bot’s OSC datagram for it arrived at cvlab’s catcher.',
  botReply: 'Black box: from the moment the chat message was due until your bot’s chat reply to it arrived.',
};

/** The glossary entry of a stage name as the tables and legends spell it (`fan-out`, `fanout`). */
export function stageHelp(stage: string): string | undefined {
  return STAGE_GLOSSARY[stage.replace('-', '')];
}
