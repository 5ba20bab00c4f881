// bench:scale's GET load, in a process of its own: the benchmark's own process
// holds what seeding a million rows left behind, and its collections (a
// memory-reducing mark-compact paused it 27 ms) were counted as the server's
// latency. GETs /api/v1/certificates/{name} for random fleet names, RATE a
// second for SECONDS after a warm-up; prints "measuring" when the warm-up is
// done, then one JSON line {"getP99Ms","getMaxMs","count"}.
//   node bench/scale-gets.ts URL API_KEY CERTIFICATES SECONDS RATE
import { Agent, request } from 'undici';
import { fleetName } from '../test/rig/fleet.ts';

const [url, apiKey, certificates, seconds, rate] = process.argv.slice(2);
const WARM_UP = 200;

const agent = new Agent({ connections: 1 });
const headers = { authorization: `Bearer ${apiKey}` };
const get = async () => {
  const name = fleetName(Math.floor(Math.random() * Number(certificates)));
  const response = await request(`${url}/api/v1/certificates/${name}`, { dispatcher: agent, headers });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`GET ${name}: HTTP ${response.statusCode}`);
};
for (let i = 0; i < WARM_UP; i++) await get();
process.stdout.write('measuring\n');
const latencies: number[] = [];
const end = performance.now() + Number(seconds) * 1000;
for (let next = performance.now(); next < end; next += 1000 / Number(rate)) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  const start = performance.now();
  await get();
  latencies.push(performance.now() - start);
}
await agent.close();
latencies.sort((a, b) => a - b);
const round = (ms: number) => Math.round(ms * 10) / 10;
process.stdout.write(
  `${JSON.stringify({ getP99Ms: round(latencies[Math.floor(latencies.length * 0.99)]), getMaxMs: round(latencies.at(-1)!), count: latencies.length })}\n`,
);
