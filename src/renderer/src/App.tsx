export function App(): React.JSX.Element {
  return (
    <main style={{ fontFamily: 'system-ui', background: '#0b0d10', color: '#e8eef5', minHeight: '100vh', padding: 32 }}>
      <h1>cvlab</h1>
      <p>The console is on its way. The engine runs from the command line: cvlab send, cvlab doctor.</p>
    </main>
  );
}
