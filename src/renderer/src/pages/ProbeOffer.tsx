import { useEffect, useState } from 'react';
import type { ProbeState } from '../../../shared/api';
import { useSession } from '../session';
import { Term } from '../components/Term';

/**
 * The Run page offers the probe connected on the Loop-back page: with it, probe viewers move the
 * rig's test variable and each CV edge is timed (chat → CV). Without one, it says where to connect it.
 */
export function ProbeOffer(): React.JSX.Element | null {
  const { lab, run, useProbe, setUseProbe, navigate } = useSession();
  const [probe, setProbe] = useState<ProbeState | null>(null);
  useEffect(() => {
    let cancelled = false;
    const unsubscribe = lab.onDidChangeProbe(setProbe);
    lab.loopbackState().then(
      (state) => {
        if (!cancelled) setProbe(state.probe);
      },
      () => undefined,
    );
    return () => {
      cancelled = true;
      unsubscribe();
    };
  }, [lab]);
  if (run) return null;
  const connected = probe?.state === 'connected';
  return (
    <div className="probe-offer dim" data-testid="probe-offer">
      {connected ? (
        <label>
          <input type="checkbox" checked={useProbe} onChange={(event) => setUseProbe(event.target.checked)} /> chat → CV with the
          connected probe ({probe.path}: {probe.detail}): probe viewers move the rig&apos;s{' '}
          <Term name="test variable">test variable</Term> and each CV edge is timed
        </label>
      ) : (
        <>
          No probe connected: chat → CV needs one.{' '}
          <button type="button" className="button-small" onClick={() => navigate('loopback')}>
            Connect it on the Loop-back page
          </button>
        </>
      )}
    </div>
  );
}
