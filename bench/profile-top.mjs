// Summarizes V8 CPU profiles (`BENCH_CPU_PROF=<dir> npm run bench` writes one per child run):
// self time by package and the top functions, idle time left out of the shares.
//   node bench/profile-top.mjs <dir-or-file>... [--top N]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 15;
const inputs = args.filter((arg, index) => index !== topAt && index !== topAt + 1);
if (inputs.length === 0) {
  console.error('usage: node bench/profile-top.mjs <dir-or-file>... [--top N]');
  process.exit(2);
}

function packageOf(url) {
  if (url === '') return '(vm)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + 'node_modules/'.length).split('/');
    return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? url);
  }
  if (url.includes('/dist/intelligence/')) return 'nestjs-intelligence';
  if (url.includes('/bench/')) return 'bench harness + handler';
  return path.basename(url);
}

function summarize(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map();
  const byPackage = new Map();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    if (functionName === '(idle)') {
      idle += micros;
      return;
    }
    busy += micros;
    const special = functionName.startsWith('(') ? functionName : undefined;
    const pkg = special ?? packageOf(url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
    const where = special ? '' : ` ${url.split('/').slice(-2).join('/')}:${String(lineNumber + 1)}`;
    const key = `${functionName || '(anonymous)'}${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  });
  const share = (micros) => `${((100 * micros) / busy).toFixed(1).padStart(5)}%`;
  const ms = (micros) => `${(micros / 1000).toFixed(0).padStart(6)} ms`;
  const lines = [
    `${path.basename(file)}: busy ${ms(busy).trim()}, idle ${ms(idle).trim()}`,
    '  by package:',
    ...[...byPackage]
      .sort((a, b) => b[1] - a[1])
      .map(([name, micros]) => `    ${share(micros)} ${ms(micros)}  ${name}`),
    `  top ${String(top)} functions (self time):`,
    ...[...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => `    ${share(micros)} ${ms(micros)}  ${name}`),
  ];
  return lines.join('\n');
}

const files = inputs.flatMap((input) =>
  statSync(input).isDirectory()
    ? readdirSync(input)
        .filter((name) => name.endsWith('.cpuprofile'))
        .sort()
        .map((name) => path.join(input, name))
    : [input],
);
console.log(files.map(summarize).join('\n\n'));
