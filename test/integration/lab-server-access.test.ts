// Who can reach `cvlab serve`: bound to 0.0.0.0 it answers requests naming any address of this
// machine's interfaces (and refuses a foreign Host); /metrics needs the token unless served publicly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../src/main/lab/lab';
import { hostNames, LabServer } from '../../src/main/lab/server/lab-server';
import { MetricsExporter } from '../../src/main/lab/metrics-export/metrics-exporter';

const TOKEN = 'access-test-token';
let rendererDir: string;
let lab: Lab;

/** GET over loopback with the Host header a browser on another machine would send. */
function get(port: number, path: string, host: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host, ...headers } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

beforeAll(() => {
  rendererDir = mkdtempSync(join(tmpdir(), 'cvlab-access-'));
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>cvlab</title>');
  lab = new Lab({ host: 'serve', dataDir: rendererDir, stores: null });
});

afterAll(async () => {
  await lab.dispose();
  rmSync(rendererDir, { recursive: true, force: true });
});

describe('Host names of a bind address', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4' as const, netmask: '', mac: '', internal: true, cidr: null }],
    eth0: [
      { address: '192.168.1.40', family: 'IPv4' as const, netmask: '', mac: '', internal: false, cidr: null },
      { address: 'fe80::1', family: 'IPv6' as const, netmask: '', mac: '', internal: false, cidr: null, scopeid: 2 },
    ],
  };
  it('lists the IPv4 addresses of every interface for 0.0.0.0, and IPv6 ones too for ::', () => {
    expect(hostNames('0.0.0.0', interfaces)).toEqual(['127.0.0.1', 'localhost', '192.168.1.40']);
    expect(hostNames('::', interfaces)).toEqual(['127.0.0.1', 'localhost', '192.168.1.40', '[fe80::1]']);
    expect(hostNames('192.168.1.40', interfaces)).toEqual(['192.168.1.40']);
  });
});

describe('cvlab serve on 0.0.0.0', () => {
  it('serves requests by each interface address, refuses a foreign Host', async () => {
    const server = await LabServer.start({ lab, rendererDir, host: '0.0.0.0', port: 0, token: TOKEN });
    try {
      const port = server.address.port;
      const addresses = Object.values(networkInterfaces())
        .flatMap((entries) => entries ?? [])
        .filter((entry) => entry.family === 'IPv4')
        .map((entry) => entry.address);
      expect(addresses.length).toBeGreaterThan(0);
      for (const address of [...addresses, 'localhost']) expect(await get(port, '/', `${address}:${port}`)).toBe(200);
      expect(await get(port, '/', `evil.example:${port}`)).toBe(403);
      expect(await get(port, '/', `${addresses[0]}:${port + 1}`)).toBe(403);
    } finally {
      await server.close();
    }
  });
});

describe('/metrics', () => {
  it('needs the token (Bearer) by default', async () => {
    const metrics = new MetricsExporter({ defaultLabels: { instance: 'test' } });
    const server = await LabServer.start({ lab, rendererDir, port: 0, token: TOKEN, metrics });
    try {
      const port = server.address.port;
      const host = `127.0.0.1:${port}`;
      expect(await get(port, '/metrics', host)).toBe(401);
      expect(await get(port, '/metrics', host, { authorization: 'Bearer wrong' })).toBe(401);
      expect(await get(port, '/metrics', host, { authorization: `Bearer ${TOKEN}` })).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('is open with metricsPublic (--metrics-public)', async () => {
    const metrics = new MetricsExporter({ defaultLabels: { instance: 'test' } });
    const server = await LabServer.start({ lab, rendererDir, port: 0, token: TOKEN, metrics, metricsPublic: true });
    try {
      expect(await get(server.address.port, '/metrics', `127.0.0.1:${server.address.port}`)).toBe(200);
    } finally {
      await server.close();
    }
  });
});
