import { useEffect } from 'react';
import { AlertsPage } from './pages/AlertsPage';
import { LoopbackPage } from './pages/LoopbackPage';
import { ReportsPage } from './pages/ReportsPage';
import { RigPage } from './pages/RigPage';
import { RunPage } from './pages/RunPage';
import { ScenariosPage } from './pages/ScenariosPage';
import { PAGES, SessionProvider, useRunProgress, useSession, type Page } from './session';

const TITLES: Record<Page, string> = {
  rig: 'Rig',
  scenarios: 'Scenarios',
  run: 'Run',
  loopback: 'Loop-back',
  reports: 'Reports',
  alerts: 'Alerts',
};

/** The whole page when `cvlab serve` refused the token: nothing below could work without it. */
function TokenRefused(): React.JSX.Element {
  const hadToken = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
  return (
    <main className="token-refused" role="alert" data-testid="token-refused">
      <div className="brand">
        cv<span>lab</span>
      </div>
      <h1>{hadToken ? 'This page’s access token was refused' : 'This page has no access token'}</h1>
      <p>
        {hadToken
          ? 'cvlab serve did not accept the token in this address: it was mistyped, or the server was restarted and made a new one.'
          : 'The address lacks the #token=… part that cvlab serve prints; without it the console cannot reach the engine.'}
      </p>
      <p>
        Open the full URL that <code>cvlab serve</code> printed when it started (it ends in <code>#token=…</code>). If
        you no longer have it, restart <code>cvlab serve</code> and open the new URL it prints.
      </p>
    </main>
  );
}

function Shell(): React.JSX.Element {
  const { page, navigate, connection, runtime, rig, run, alerts } = useSession();
  const progress = useRunProgress();

  // Alt+1…6 switches pages from anywhere.
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (!event.altKey) return;
      const target = PAGES[Number(event.key) - 1];
      if (target) {
        event.preventDefault();
        navigate(target);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  const firing = alerts.filter((alert) => alert.resolved === undefined).length;
  if (connection === 'refused') return <TokenRefused />;
  return (
    <div className="shell">
      <nav className="nav" aria-label="pages">
        <div className="brand">
          cv<span>lab</span>
        </div>
        <ul>
          {PAGES.map((name, index) => (
            <li key={name}>
              <button
                type="button"
                className={page === name ? 'active' : ''}
                aria-current={page === name ? 'page' : undefined}
                onClick={() => navigate(name)}
                title={`Alt+${index + 1}`}
              >
                <span className="nav-key">{index + 1}</span>
                {TITLES[name]}
                {name === 'run' && run && <span className="led live" aria-label="running" />}
                {name === 'alerts' && firing > 0 && <span className="badge bad">{firing}</span>}
              </button>
            </li>
          ))}
        </ul>
        <div className="nav-foot">
          <div className={`connection ${connection}`} data-testid="connection">
            <span className="led" aria-hidden="true" /> {runtime === 'electron' ? 'engine' : 'cvlab serve'}{' '}
            {connection === 'open' ? 'connected' : connection}
          </div>
          <div className="dim">rig: {rig?.rig.name ?? '…'}</div>
          {run && <div className="dim">run: {progress ? `${Math.round(progress.fraction * 100)} %` : 'starting'}</div>}
        </div>
      </nav>
      <main className="content">
        {connection === 'closed' && (
          <div className="notice bad connection-lost" role="status">
            The connection to cvlab serve closed; reconnecting… Figures on screen stop at the moment it closed.
          </div>
        )}
        {/* Pages stay mounted so the scope keeps its charts; hidden pages draw nothing. */}
        {PAGES.map((name) => (
          <div key={name} className="page-frame" hidden={page !== name} data-page={name}>
            {name === 'rig' && <RigPage />}
            {name === 'scenarios' && <ScenariosPage />}
            {name === 'run' && <RunPage />}
            {name === 'loopback' && <LoopbackPage />}
            {name === 'reports' && <ReportsPage />}
            {name === 'alerts' && <AlertsPage />}
          </div>
        ))}
      </main>
    </div>
  );
}

export function App(): React.JSX.Element {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}
